from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "jiedao.duties"
    label = "duties"
    verbose_name = "权责清单"
