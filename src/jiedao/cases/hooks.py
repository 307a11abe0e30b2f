"""What the case loop offers the apps above it, so that it never imports them.

Ports, each filled by at most one app in its ``AppConfig.ready()``:

- ``intake_classifier`` (智能分拨, ``jiedao.intelligence``): given a new case's text (and the category the person chose, if any),
  the proposal of a category — an object with ``category``, ``confidence``, ``auto`` (classify
  and dispatch at once; the intake may turn it off when no unit can take the case),
  ``note()`` (the dispatch event's note when it dispatched), ``event_data()`` (what the
  dispatch event records of it) and ``save_for(case)`` (keep it with the case, in the
  intake's transaction) — or None when there is no model;
- ``reply_checker`` (智能分拨): given a case, the unit's result and the moment, checks the reply's
  quality in the resolving transaction (答复质量); with ``keep=False`` it only answers the
  check (an object with ``flags``) without keeping it, for the resolve form while one types;
- ``category_suggester`` (智能分拨): given words typed in a search and ``k``, the model's ``k``
  likeliest categories as ``(code, probability)`` pairs, ranked with the other matches of the
  category search; None when there is no model;
- ``address_locator``: given an address as typed, the position ``(lat, lng)`` of the place it
  names, or None (一户一档 knows its buildings' positions: ``jiedao.registry``).

An unfilled port answers None and does nothing: the loop runs without the app that fills it.

Three signals, each sent once the transaction that wrote the change has committed (never for
a change that was rolled back), with ``sender`` the ``Case`` model:

- ``case_created(case)``: a new case was registered (受理), whatever the door;
- ``case_resolved(case)``: the unit reported its result (办结反馈);
- ``case_event_recorded(case_id, event)``: one event of a case's log was written (every
  action, the system's included).

One signal is sent at once, inside the transaction that writes the event, for a receiver whose
own rows must commit or roll back with it (an outbox row):

- ``case_event_written(case_id, event)``: as ``case_event_recorded``, before the commit.

This module imports no model, so that an app's ``apps.py`` may import it at the top.
"""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.dispatch import Signal

case_created = Signal()
case_resolved = Signal()
case_event_recorded = Signal()
case_event_written = Signal()


class Port:
    """One function a higher app plugs in; calling the port calls it (None when unplugged)."""

    def __init__(self, name: str):
        self.name = name
        self._function: Callable[..., Any] | None = None

    def plug(self, function: Callable[..., Any]) -> None:
        self._function = function

    def unplug(self) -> None:
        self._function = None

    @property
    def plugged(self) -> bool:
        return self._function is not None

    def __call__(self, *args, **kwargs):
        if self._function is None:
            return None
        return self._function(*args, **kwargs)


intake_classifier = Port("intake classifier")
reply_checker = Port("reply checker")
category_suggester = Port("category suggester")
address_locator = Port("address locator")


def send_on_commit(signal: Signal, sender, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one); nothing is
    scheduled when no receiver listens."""
    if signal.has_listeners(sender):
        transaction.on_commit(lambda: signal.send(sender=sender, **kwargs))


def event_recorded(event) -> None:
    """Tell the subscribers of ``case_event_written`` about ``event`` now, and those of
    ``case_event_recorded`` after the commit."""
    if case_event_written.has_listeners(type(event.case)):
        case_event_written.send(sender=type(event.case), case_id=event.case_id, event=event)
    send_on_commit(case_event_recorded, type(event.case), case_id=event.case_id, event=event)
