from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import DAILY, HOURLY, PeriodicJob


class HallConfig(AppConfig):
    name = "jiedao.hall"
    verbose_name = _("便民服务中心")
    # The worker's jobs (ops.jobs): reminders for missing (容缺) materials, and the
    # anonymisation of applicants on applications finished long ago.
    periodic_jobs = (
        PeriodicJob("hall.remind_materials", "jiedao.hall.tasks.enqueue_reminders_if_due", every=HOURLY),
        PeriodicJob("hall.anonymise", "jiedao.hall.tasks.enqueue_anonymise_if_due", every=DAILY),
    )
