from django.apps import AppConfig

from .jobs import SWEEP, PeriodicJob


class OpsConfig(AppConfig):
    name = "jiedao.ops"
    label = "ops"
    verbose_name = "运行维护"
    # The worker's jobs (ops.jobs): a backup when scheduled backups are due (BACKUP_EVERY_HOURS).
    periodic_jobs = (PeriodicJob("ops.backup", "jiedao.ops.tasks.enqueue_backup_if_due", every=SWEEP),)

    def ready(self):
        from . import checks  # noqa: F401, PLC0415 (Django: registers the deployment checks once the apps are loaded)
