from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelligenceConfig(AppConfig):
    name = "jiedao.intelligence"
    label = "intelligence"
    verbose_name = _("智能分拨")
    default_auto_field = "django.db.models.BigAutoField"
