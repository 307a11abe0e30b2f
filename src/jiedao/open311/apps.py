from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import ROUND, SWEEP, PeriodicJob


class Open311Config(AppConfig):
    name = "jiedao.open311"
    label = "open311"
    verbose_name = "开放接口"
    # The worker's jobs (ops.jobs): a webhook delivery round whenever deliveries are due; a pull of
    # the upstream platforms whose interval (minutes, set per platform) has passed.
    periodic_jobs = (
        PeriodicJob("open311.deliver_webhooks", "jiedao.open311.tasks.enqueue_deliveries_if_due", every=ROUND),
        PeriodicJob("open311.sync_upstreams", "jiedao.open311.tasks.enqueue_sync_if_due", every=SWEEP),
    )

    def ready(self):
        # The case lifecycle's module reads the models: Django lets it be imported only now.
        from jiedao.cases import hooks, states  # noqa: PLC0415 (Django: the app registry must be ready)
        from jiedao.cases.models import Case  # noqa: PLC0415 (as above)
        from jiedao.messaging.channels import open311 as open311_channel  # noqa: PLC0415 (as above)

        from . import statuses, upstreams  # noqa: PLC0415 (as above)

        # The steps of a case pulled from an upstream platform are sent back to it: an outbox row
        # in the step's transaction, posted by the outbox's channel "open311".
        hooks.case_event_written.connect(upstreams.on_case_event, sender=Case, dispatch_uid="open311_upstream_updates")
        open311_channel.plug(upstreams.post_update)

        # Labels of the events this app writes, shown on a case's timeline: a client's
        # update, and the state an imported case was in when it was imported.
        states.SYSTEM_ACTIONS.setdefault(statuses.UPDATE_ACTION, statuses.UPDATE_ACTION_LABEL)
        states.SYSTEM_ACTIONS.setdefault("import", _("历史工单导入"))
