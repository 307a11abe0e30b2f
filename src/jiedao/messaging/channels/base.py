"""What every outgoing channel is: one class per protocol (e-mail, group robots, SMS) that sends
one message and says what the provider answered. The outbox (``messaging.outbox``) decides when
to send, retries and records the answer; a channel only speaks its protocol.

A channel never raises for a provider's answer: it returns a ``Sent``. ``retry`` says whether
trying again later may help (the provider is down, busy, or timed out) or not (a wrong key, an
unknown template, a number the provider refuses): the outbox marks the message failed at once
for the latter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message to one address of one channel.

    ``key``: the message's own id, the same on every attempt, sent to providers that can drop a
    duplicate (an e-mail's Message-ID, a gateway's request id). ``address``: an e-mail address,
    a mainland mobile number, or for a group robot its configured name. ``mentions``: mobile
    numbers to @ in a group. ``template`` and ``params``: an SMS provider's approved template id
    and its parameters in order; channels without templates use ``subject`` and ``text``."""

    key: str
    address: str
    text: str
    subject: str = ""
    link: str = ""
    mentions: tuple[str, ...] = ()
    template: str = ""
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sent:
    """What the provider answered: accepted (``ok``), with its id for the message if it gave one;
    or refused, with its code and words, and whether a later attempt may succeed."""

    ok: bool
    provider_id: str = ""
    code: str = ""
    answer: str = ""
    retry: bool = False
    extra: dict = field(default_factory=dict)


class Channel(Protocol):
    """A way out. ``name`` is the channel's code (email, wecom, dingtalk, sms_http, sms_tencent);
    ``label`` its Chinese name; ``check()`` returns the configuration problems in plain Chinese
    (empty when it is ready); ``send`` sends one message."""

    name: str
    label: str

    def check(self) -> list[str]: ...

    def send(self, message: Outgoing) -> Sent: ...
