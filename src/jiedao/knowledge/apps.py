from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """知识库: the answers the 12345 desk gives to common questions, kept by staff, found while
    the operator types the caller's words, and counted each time one is given."""

    name = "jiedao.knowledge"
    label = "knowledge"
    verbose_name = _("知识库")
    default_auto_field = "django.db.models.BigAutoField"
