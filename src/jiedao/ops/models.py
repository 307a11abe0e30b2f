"""What the running installation knows about itself: which background processes are alive."""

from django.db import models
from django.utils.translation import gettext_lazy as _

WORKER = "worker"  # the name of the worker's heartbeat row


class Heartbeat(models.Model):
    """The last sign of life of a background process (the worker), one row per name.

    The worker updates its row every few seconds; ``/healthz`` and ``jiedao check`` read it."""

    name = models.CharField(_("进程"), max_length=50, unique=True)
    seen_at = models.DateTimeField(_("最近一次"))
    host = models.CharField(_("主机"), max_length=100, blank=True, default="")
    pid = models.IntegerField(_("进程号"), null=True, blank=True)

    class Meta:
        verbose_name = _("心跳")
        verbose_name_plural = _("心跳")

    def __str__(self):
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
