from django.apps import AppConfig


class WorkcalConfig(AppConfig):
    name = "jiedao.workcal"
    label = "workcal"
    verbose_name = "工作日历"

    def ready(self):
        # Django: both read the models, which load after the apps; importing checks registers
        # the deployment check of the holiday data.
        from . import checks, signals  # noqa: F401, PLC0415

        signals.connect()
