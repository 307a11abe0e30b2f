"""Forms of the pages about one's own account: signing in, revoking API tokens (我的接口令牌)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import User


class _UserNameOfAnAccount:
    """Django's sign-in form shows a length limit but does not check it: a user name longer than
    any account's is refused here, before anyone tries it (the lock-out keeps the names that
    failed, in a column of limited size)."""

    def clean_username(self):
        username = self.cleaned_data["username"]
        longest = User._meta.get_field("username").max_length
        if len(username) > longest:
            raise forms.ValidationError(
                gettext("%(label)s不能超过 %(max)d 个字。") % {"label": gettext("用户名"), "max": longest}
            )
        return username


class SignInForm(_UserNameOfAnAccount, AuthenticationForm):
    """The sign-in page (登录)."""


class AdminSignInForm(_UserNameOfAnAccount, AdminAuthenticationForm):
    """The admin's sign-in page."""


class RevokeTokenForm(forms.Form):
    """Revoke one of one's own tokens, chosen by its number in the list."""

    token = forms.IntegerField(
        label=_("令牌"),
        min_value=1,
        error_messages={
            "required": _("请从列表中选择要撤销的令牌。"),
            "invalid": _("请从列表中选择要撤销的令牌。"),
            "min_value": _("请从列表中选择要撤销的令牌。"),
        },
    )


class RevokeAllTokensForm(forms.Form):
    """Revoke every one of one's own tokens."""

    all = forms.BooleanField(label=_("全部撤销"), required=True, error_messages={"required": _("请确认撤销全部令牌。")})
