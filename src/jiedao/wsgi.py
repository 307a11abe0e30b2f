"""The WSGI entry (``jiedao serve`` loads it; so can any WSGI server). It refuses to start with
the secret key published in the source (``jiedao.common.sitekey``)."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from jiedao.common import sitekey

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
application = get_wsgi_application()

if sitekey.refusal():
    raise ImproperlyConfigured(sitekey.refusal())
