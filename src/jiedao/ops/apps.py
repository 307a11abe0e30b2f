from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "jiedao.ops"
    label = "ops"
    verbose_name = "运行维护"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)
