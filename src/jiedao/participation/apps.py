from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "jiedao.participation"
    label = "participation"
    verbose_name = _("多元共治")
    default_auto_field = "django.db.models.BigAutoField"
