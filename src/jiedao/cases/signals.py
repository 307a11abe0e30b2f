"""Keep the per-process cache of categories and routing rules in step with the tables.

Connected in ``CasesConfig.ready`` (imported there: it reads the models). The signals the case
loop sends to other apps are in ``hooks``. A save or delete in this process clears the
cache at once; other processes pick the change up within ``selectors.ROUTING_TTL``
seconds (see ``selectors``).
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from jiedao.org.models import Community, Grid, Street, Unit

from . import selectors
from .models import Category, RoutingRule


def routing_changed(sender, **kwargs):
    # At once for this request, and again after the commit, in case another thread of
    # this process read the old rows between the save and the commit.
    selectors.forget_routing()
    transaction.on_commit(selectors.forget_routing, using=kwargs.get("using"))


def connect():
    for model in (Category, RoutingRule, Unit, Street, Community, Grid):
        post_save.connect(routing_changed, sender=model, dispatch_uid=f"cases_routing_save_{model.__name__}")
        post_delete.connect(routing_changed, sender=model, dispatch_uid=f"cases_routing_delete_{model.__name__}")
