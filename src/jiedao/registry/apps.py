from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "jiedao.registry"
    label = "registry"
    verbose_name = "一户一档"
