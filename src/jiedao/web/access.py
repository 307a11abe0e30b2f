"""Role checks for pages: sign-in first, then the role; anything else is a 403."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

# The page each role starts on, in order of precedence for people with several roles.
HOME_BY_ROLE = (
    ("leader", "cases:overview"),
    ("dispatcher", "cases:dispatch"),
    ("operator", "cases:intake"),
    ("handler", "cases:workbench"),
    ("grid", "geo:my_grid"),
    ("evaluator", "evaluation:library"),
    ("district", "evaluation:streets"),
    ("admin", "cases:overview"),
    ("resident", "web:portal"),
)


def role_required(*roles):
    """Only signed-in users holding one of ``roles`` may open the page."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(*roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def home_url_name(user):
    for role, name in HOME_BY_ROLE:
        if user.has_role(role):
            return name
    return "web:portal"
