from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergencyConfig(AppConfig):
    name = "jiedao.emergency"
    label = "emergency"
    verbose_name = _("应急管理")
    default_auto_field = "django.db.models.BigAutoField"
