"""Cases raised by machine alerts (感知设备): one open case per device and kind of alert.

A camera that sees the same illegal parking every few hours, a manhole cover that keeps
tilting: each confirmed alert used to open a case of its own, and the dispatcher's queue filled
with the same matter. ``submit_alert`` counts an alert on the open case of the same device and
kind (its ``alert_source``) instead — the count and the last alert's time on the case, and a
``realert`` event in its log, in one transaction — and registers a new case (``intake``) only
when no such case is open. Once that case is closed (or merged, or void), the next alert opens a
new one.
"""

import datetime as dt

from django.db import transaction

from jiedao.common.errors import FieldErrors

from . import intake
from .models import OPEN_STATUSES, Case, Channel
from .states import CASE

# The longest text of a source (the column's length).
MAX_SOURCE = 60


def alert_source(device_id: int, kind: str | int) -> str:
    """The key of a device and a kind of alert (a rule), as kept on the case."""
    return f"device:{device_id}:rule:{kind}"[:MAX_SOURCE]


def open_case(source: str) -> Case | None:
    """The open case raised by ``source``, locked (the newest, should there be more)."""
    if not source:
        return None
    return (
        Case.objects.select_for_update(of=("self",))
        .filter(alert_source=source, status__in=OPEN_STATUSES)
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def submit_alert(
    user,
    *,
    source: str,
    message: str,
    alerted_at: dt.datetime,
    at: dt.datetime,
    description: str,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    grid_code: str = "",
    category_code: str = "",
    dispatch: bool = False,
) -> tuple[Case, bool]:
    """The case of a confirmed machine alert: ``(case, created)``. While a case raised by the
    same device and kind (``source``) is open, the alert is counted on it (``alert_count``, and
    ``last_alert_at`` the time the device alerted, ``alerted_at``) with a ``realert`` event at
    ``at`` whose note is the alert's ``message``, and ``created`` is False; otherwise a new case is
    registered at ``at`` (channel 感知设备) carrying the source, counted once."""
    errors = FieldErrors()
    intake.check_channel(errors, user, Channel.SENSOR)  # the door's permission, as a new case's
    errors.raise_if_any()
    case = open_case(source)
    if case is not None:
        case.alert_count = max(case.alert_count, 1) + 1
        if case.last_alert_at is None or alerted_at > case.last_alert_at:
            case.last_alert_at = alerted_at
        case.save(update_fields=["alert_count", "last_alert_at", "updated_at"])
        data = {"source": source, "count": case.alert_count, "alerted_at": alerted_at.isoformat()}
        CASE.record(case, "realert", user, at=at, note=message, data=data)
        return case, False
    case, _created = intake.submit(
        user,
        channel=Channel.SENSOR,
        description=description,
        lat=lat,
        lng=lng,
        address=address,
        grid_code=grid_code,
        category_code=category_code,
        dispatch=dispatch,
        at=at,
    )
    case.alert_source, case.alert_count, case.last_alert_at = source[:MAX_SOURCE], 1, alerted_at
    Case.objects.filter(pk=case.pk).update(
        alert_source=case.alert_source, alert_count=case.alert_count, last_alert_at=case.last_alert_at
    )
    return case, True
