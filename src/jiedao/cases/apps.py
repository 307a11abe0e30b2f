from django.apps import AppConfig

from jiedao.ops.jobs import DAILY, SWEEP, PeriodicJob


class CasesConfig(AppConfig):
    name = "jiedao.cases"
    label = "cases"
    verbose_name = "接诉即办"
    # The worker's jobs (ops.jobs): the deadline sweep, also run by `jiedao worker --once`,
    # and the anonymisation of reporters on long-closed cases.
    periodic_jobs = (
        PeriodicJob(
            "cases.sweep_deadlines",
            "jiedao.cases.tasks.enqueue_sweep_if_idle",
            every=SWEEP,
            once="jiedao.cases.tasks.sweep_now",
        ),
        PeriodicJob("cases.anonymise", "jiedao.cases.tasks.enqueue_anonymise_if_due", every=DAILY),
    )
    # Figures of /metrics (ops.metrics), read at every scrape.
    metric_gauges = (
        ("jiedao_cases_open", "Cases not yet closed or merged", "jiedao.cases.selectors.open_case_count"),
        (
            "jiedao_cases_overdue",
            "Cases overdue now (the case page's 超期: past the response limit while waiting for the response, "
            "or past the completion limit)",
            "jiedao.cases.selectors.overdue_case_count",
        ),
    )

    def ready(self):
        from . import signals  # noqa: PLC0415 (once the app registry is ready: the module reads the models)

        signals.connect()
