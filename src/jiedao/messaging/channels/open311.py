"""Updates to a district or city platform (Open311 GeoReport v2, the ``servicerequestupdates``
extension): the steps taken on a case that came from that platform, posted back.

The platforms, their addresses and keys belong to the open interfaces (``jiedao.open311``), an app
above this one: it plugs its sender in here when it starts (``plug``). The outbox treats the
channel like any other — the message's ``key`` is sent as the update's ``update_id``, so the
platform drops a second copy of an update sent again."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.utils.translation import gettext, gettext_lazy

from .base import Outgoing, Sent

_sender: Callable[[Outgoing], Sent] | None = None


def plug(sender: Callable[[Outgoing], Sent] | None) -> None:
    """The function that posts one update (``jiedao.open311`` plugs it in; None unplugs)."""
    global _sender
    _sender = sender


class Open311Channel:
    name = "open311"
    label = cast(str, gettext_lazy("市/区平台（Open311）"))

    def check(self) -> list[str]:
        if _sender is None:
            return [gettext("开放接口模块没有启用，无法向市/区平台回传办理情况。")]
        return []

    def send(self, message: Outgoing) -> Sent:
        if _sender is None:
            return Sent(ok=False, code="config", answer=" ".join(self.check()), retry=False)
        return _sender(message)
