"""The channels the outbox sends through, by code: ``channel("email")`` is the configured
e-mail channel. Each channel lives in its own module and is imported only when asked for, so
that a channel whose module or library is missing stops only its own messages."""

from __future__ import annotations

import importlib

from .base import Channel, Outgoing, Sent

__all__ = ["CHANNELS", "Channel", "Outgoing", "Sent", "UnknownChannel", "channel"]

# code → "module:Class". When the class is not found under that name, the module's class whose
# ``name`` is the code is taken.
CHANNELS = {
    "email": "jiedao.messaging.channels.email:EmailChannel",
    "wecom": "jiedao.messaging.channels.wecom:WeComChannel",
    "dingtalk": "jiedao.messaging.channels.dingtalk:DingTalkChannel",
    "sms_http": "jiedao.messaging.channels.sms_http:HttpSmsChannel",
    "sms_tencent": "jiedao.messaging.channels.sms_tencent:TencentSmsChannel",
    "open311": "jiedao.messaging.channels.open311:Open311Channel",
}


class UnknownChannel(LookupError):
    """No channel of this code can be loaded (unknown code, or its module is missing)."""


def _class(code: str) -> type:
    try:
        module_name, class_name = CHANNELS[code].split(":")
    except KeyError:
        raise UnknownChannel(code) from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UnknownChannel(code) from error
    found = getattr(module, class_name, None)
    if isinstance(found, type):
        return found
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "name", None) == code and hasattr(value, "send"):
            return value
    raise UnknownChannel(code)


def channel(code: str) -> Channel:
    """The channel of ``code``, configured from the settings as they are now. Raises
    ``UnknownChannel`` when it cannot be loaded."""
    return _class(code)()
