"""Twelve months of history for the demo street, written as the services would have written it.

Cases arrive with a weekday and hour-of-day rhythm and a summer bump (``rhythm``); each is
taken in (``intake``) and played through its whole life at once — dispatch by the services'
routing, return, response, notes, supervision, result (``handling``), co-handling, whistles and
extensions (``escalation``), verification and rating, rework or closing (``rating``) — by
units that behave differently (``behaviour``), and stops where "now" cuts it, so that recent
cases stay open in every state; between steps the worker's deadline sweeps run (``clock``).
``world`` holds what every step reads and the random source: one seed gives the same history
every run. Each case is a draft of ``cases.bulk``, which moves it only by the case lifecycle's
table and writes it as intake numbers it, with the services' events; ``run`` writes the drafts
a thousand at a time.
"""

from .progress import Progress
from .run import Simulator, simulate

__all__ = ["Progress", "Simulator", "simulate"]
