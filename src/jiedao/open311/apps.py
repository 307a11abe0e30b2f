from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import ROUND, PeriodicJob


class Open311Config(AppConfig):
    name = "jiedao.open311"
    label = "open311"
    verbose_name = "开放接口"
    # The worker's jobs (ops.jobs): a webhook delivery round whenever deliveries are due.
    periodic_jobs = (
        PeriodicJob("open311.deliver_webhooks", "jiedao.open311.tasks.enqueue_deliveries_if_due", every=ROUND),
    )

    def ready(self):
        # The case lifecycle's module reads the models: Django lets it be imported only now.
        from jiedao.cases import states  # noqa: PLC0415 (Django: the app registry must be ready)

        from . import statuses  # noqa: PLC0415 (as above)

        # Labels of the events this app writes, shown on a case's timeline: a client's
        # update, and the state an imported case was in when it was imported.
        states.SYSTEM_ACTIONS.setdefault(statuses.UPDATE_ACTION, statuses.UPDATE_ACTION_LABEL)
        states.SYSTEM_ACTIONS.setdefault("import", _("历史工单导入"))
