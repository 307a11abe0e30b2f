from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "jiedao.common"
    label = "common"
    verbose_name = "公共"
