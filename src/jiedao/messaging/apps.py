from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from jiedao.ops.jobs import ROUND, PeriodicJob


class MessagingConfig(AppConfig):
    name = "jiedao.messaging"
    label = "messaging"
    verbose_name = _("消息")
    # The worker's jobs (ops.jobs): a sending round of the outbox whenever a message is due.
    periodic_jobs = (PeriodicJob("messaging.send_outbox", "jiedao.messaging.tasks.enqueue_outbox_if_due", every=ROUND),)
    # Figures of /metrics (ops.metrics), read at every scrape.
    metric_gauges = (
        (
            "jiedao_outbox_failed",
            "Outgoing messages failed after their last attempt in the last 24 hours",
            "jiedao.messaging.selectors.outbox_failed_count",
        ),
        (
            "jiedao_outbox_failed_by_channel",
            "Outgoing messages failed after their last attempt in the last 24 hours, per channel",
            "jiedao.messaging.selectors.outbox_failed_by_channel",
        ),
        (
            "jiedao_outbox_queued",
            "Outgoing messages waiting to be sent or being sent",
            "jiedao.messaging.selectors.outbox_queued_count",
        ),
        (
            "jiedao_outbox_latency_median_seconds",
            "Median seconds from the event to the provider's acceptance, messages sent in the last hour",
            "jiedao.messaging.selectors.delivery_latency_median",
        ),
        (
            "jiedao_outbox_latency_p99_seconds",
            "99th percentile of the seconds from the event to the provider's acceptance, last hour",
            "jiedao.messaging.selectors.delivery_latency_p99",
        ),
    )

    def ready(self):
        from . import outbox  # noqa: PLC0415 (once the app registry is ready: the module reads the models)
        from .models import DeliveryRule, MessageTemplate  # noqa: PLC0415 (as above)

        # A rule saved or deleted in this process counts at once (other processes: within seconds).
        post_save.connect(outbox.forget_rules, sender=DeliveryRule, dispatch_uid="messaging_rules_save")
        post_delete.connect(outbox.forget_rules, sender=DeliveryRule, dispatch_uid="messaging_rules_delete")
        post_save.connect(outbox.forget_rules, sender=MessageTemplate, dispatch_uid="messaging_templates_save")
        # Which channels are configured is remembered with the rules: a changed setting counts at once.
        setting_changed.connect(outbox.forget_rules, dispatch_uid="messaging_settings_changed")
        post_delete.connect(outbox.forget_rules, sender=MessageTemplate, dispatch_uid="messaging_templates_delete")
