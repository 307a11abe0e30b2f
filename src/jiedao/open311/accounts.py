"""The service account (服务账号) an API client or an upstream platform acts as: a user without a
password, in the role that may register cases through the API, with a name the timeline shows."""

import secrets

from django.contrib.auth.models import Group

from jiedao.org.models import User


def service_account(display_name: str, *, prefix: str, role: str) -> User:
    user = User(username=f"{prefix}-{secrets.token_hex(6)}", display_name=display_name[:50])
    user.set_unusable_password()
    user.save()
    group, _created = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    return user
