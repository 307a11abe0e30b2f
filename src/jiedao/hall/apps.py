from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import HOURLY, PeriodicJob


class HallConfig(AppConfig):
    name = "jiedao.hall"
    verbose_name = _("便民服务中心")
    # The worker's jobs (ops.jobs): reminders for missing (容缺) materials.
    periodic_jobs = (PeriodicJob("hall.remind_materials", "jiedao.hall.tasks.enqueue_reminders_if_due", every=HOURLY),)
