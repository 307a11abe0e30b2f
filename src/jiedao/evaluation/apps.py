from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import SWEEP, PeriodicJob


class EvaluationConfig(AppConfig):
    name = "jiedao.evaluation"
    label = "evaluation"
    verbose_name = _("效能评价")
    default_auto_field = "django.db.models.BigAutoField"
    # The worker's jobs (ops.jobs): indicator results, rollups and warnings, asked at every
    # sweep and queued every EVALUATION_EVERY_MINUTES (15 by default).
    periodic_jobs = (
        PeriodicJob("evaluation.compute", "jiedao.evaluation.tasks.enqueue_evaluation_if_due", every=SWEEP),
    )
