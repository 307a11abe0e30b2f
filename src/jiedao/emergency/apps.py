from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import SWEEP, PeriodicJob


class EmergencyConfig(AppConfig):
    name = "jiedao.emergency"
    label = "emergency"
    verbose_name = _("应急管理")
    default_auto_field = "django.db.models.BigAutoField"
    # The worker's jobs (ops.jobs): the sensor sweep and the escalation of unacknowledged
    # emergencies down the duty roster, each unless one is waiting or running.
    periodic_jobs = (
        PeriodicJob("emergency.sweep_sensors", "jiedao.emergency.tasks.enqueue_sensor_sweep_if_idle", every=SWEEP),
        PeriodicJob("emergency.escalate", "jiedao.emergency.tasks.enqueue_escalation_if_idle", every=SWEEP),
    )
    # Figures of /metrics (ops.metrics) and lines of the operations page 消息发送 (messaging.views).
    metric_gauges = (
        (
            "jiedao_emergency_ack_median_seconds",
            "Median seconds from an emergency's report to its acknowledgement, last 30 days (-1: none)",
            "jiedao.emergency.selectors.ack_median_seconds",
        ),
        (
            "jiedao_emergency_unacknowledged",
            "Emergencies of the last 30 days told to the person on duty and not acknowledged",
            "jiedao.emergency.selectors.unacknowledged_count",
        ),
    )
    ops_figures = ("jiedao.emergency.selectors.ack_figures",)
