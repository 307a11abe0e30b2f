from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import DAILY, PeriodicJob


class ParticipationConfig(AppConfig):
    name = "jiedao.participation"
    label = "participation"
    verbose_name = _("多元共治")
    default_auto_field = "django.db.models.BigAutoField"
    # The worker's jobs (ops.jobs): reminders to the units of adopted actions past their due date.
    periodic_jobs = (
        PeriodicJob(
            "participation.remind_overdue_actions", "jiedao.participation.tasks.enqueue_reminders_if_due", every=DAILY
        ),
    )
