from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "jiedao.cases"
    label = "cases"
    verbose_name = "接诉即办"

    def ready(self):
        from . import signals

        signals.connect()
