"""What follows a sign-in or a new password, wherever it happens.

- A successful sign-in (page or admin) does not count against its address's limit of failed
  sign-ins (``backends.signed_in``).
- A new password — the admin's forms, ``jiedao changepassword``, any ``set_password`` then
  ``save`` — revokes every API token of that user (``services.revoke_all_tokens``). Django
  itself ends the user's other sessions: a session holds a hash of the password it was opened
  with, and only the session that changed the password is given the new one."""

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import backends, services
from .models import User


@receiver(user_logged_in, dispatch_uid="jiedao.org.signed_in")
def _signed_in(sender, request=None, user=None, **kwargs):
    backends.signed_in(request)


@receiver(post_save, sender=User, dispatch_uid="jiedao.org.password_changed")
def _password_changed(sender, instance, created=False, **kwargs):
    # set_password() keeps the new password in _password until the save that stores it has
    # sent this signal (Django's own marker for password_changed); a hash upgrade at sign-in
    # does not set it.
    if not created and getattr(instance, "_password", None) is not None:
        services.revoke_all_tokens(instance)
