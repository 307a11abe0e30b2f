from django.apps import AppConfig


class WorkcalConfig(AppConfig):
    name = "jiedao.workcal"
    label = "workcal"
    verbose_name = "工作日历"

    def ready(self):
        from . import signals

        signals.connect()
