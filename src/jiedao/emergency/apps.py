from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import SWEEP, PeriodicJob


class EmergencyConfig(AppConfig):
    name = "jiedao.emergency"
    label = "emergency"
    verbose_name = _("应急管理")
    default_auto_field = "django.db.models.BigAutoField"
    # The worker's jobs (ops.jobs): the sensor sweep, unless one is waiting or running.
    periodic_jobs = (
        PeriodicJob("emergency.sweep_sensors", "jiedao.emergency.tasks.enqueue_sensor_sweep_if_idle", every=SWEEP),
    )
