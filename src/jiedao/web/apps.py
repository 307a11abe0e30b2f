from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jiedao.web"
    label = "web"
    verbose_name = "页面"
