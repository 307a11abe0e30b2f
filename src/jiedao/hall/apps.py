from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HallConfig(AppConfig):
    name = "jiedao.hall"
    verbose_name = _("便民服务中心")
