"""The 应急管理 API: devices post readings with their own token; staff report and move
emergencies along their timeline, check on residents, decide alerts and move stock.
Thin: services write, selectors read."""

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from jiedao.common import params
from jiedao.common.schemas import ErrorsOut
from jiedao.org.permissions import permission

from . import selectors, services
from .models import Level

router = Router(tags=["emergency"])
ERRORS = {401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut, 422: ErrorsOut}


# --- sensors ---------------------------------------------------------------------------------


def _described(kind: dict[str, Any], text: str) -> Any:
    """A field the service checks (so that one answer names every fault of every reading),
    described in the API's schema as what it should be."""
    return Field(None, description=text, json_schema_extra=kind)


class ReadingIn(Schema):
    device: Any = _described({"type": "string", "maxLength": 30}, "the device's code (required)")
    token: Any = _described({"type": "string", "maxLength": 100}, "the device's token (required)")
    at: Any = _described({"type": "string", "format": "date-time"}, "when it was read, with its time zone (required)")
    metric: Any = _described({"type": "string", "maxLength": 20}, "what was measured, with a value")
    value: Any = _described({"type": "number"}, "the reading; or an event")
    event: Any = _described({"type": "string", "maxLength": 30}, "an event the device reports; or a value")


class BatchIn(Schema):
    readings: list[Any] = Field(
        json_schema_extra={"items": {**ReadingIn.model_json_schema(), "required": ["device", "token", "at"]}},
        description="at most 5000 readings",
    )


class BatchOut(Schema):
    accepted: int
    duplicates: int = 0
    alerts: int


@router.post(
    "/sensors/readings", auth=None, response={200: BatchOut, **ERRORS}, summary="Post a batch of device readings"
)
@permission("public.readings")
def post_readings(request, payload: BatchIn):
    """Each reading names its device and carries that device's token. Unknown device, bad
    token, a time more than 5 minutes ahead or more than 7 days old, or a value that is not
    a finite number in the metric's range: the whole batch is refused with 422 and every
    bad reading is named (``readings.<n>.<field>``); nothing is stored. A batch may be sent
    again after a lost answer: readings already stored (same device, time, metric and
    event) are counted in ``duplicates`` and not stored twice."""
    return services.ingest(payload.readings)


# --- emergencies ----------------------------------------------------------------------------


class EmergencyIn(Schema):
    title: str
    kind: str
    level: str = Level.IV
    description: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    grid: str = ""
    lead_unit: str = ""
    arrival_target_minutes: int | None = Field(None, ge=1, le=600)


class EmergencyMeasuresOut(Schema):
    arrival_minutes: float | None
    arrival_target: int
    arrival_on_time: bool | None
    disposal_minutes: float | None
    disposal_target: int
    disposal_on_time: bool | None


class EmergencyEventOut(Schema):
    action: str
    label: str
    from_status: str
    to_status: str
    actor: str
    note: str
    at: dt.datetime


class EmergencyOut(Schema):
    number: str
    title: str
    kind: str
    level: str
    status: str
    status_label: str
    grid: str
    reported_at: dt.datetime
    measures: EmergencyMeasuresOut
    events: list[EmergencyEventOut]


def _out(emergency, with_events=True):
    events = selectors.timeline(emergency) if with_events else []
    return {
        "number": emergency.number,
        "title": emergency.title,
        "kind": emergency.kind,
        "level": emergency.level,
        "status": emergency.status,
        "status_label": emergency.get_status_display(),
        "grid": emergency.grid.code if emergency.grid_id else "",
        "reported_at": emergency.reported_at,
        "measures": selectors.measures(emergency).as_dict(),
        "events": [
            {
                "action": e.action,
                "label": e.label,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": str(e.actor) if e.actor else "",
                "note": e.note,
                "at": e.at,
            }
            for e in events
        ],
    }


@router.get("/emergencies", response={200: list[EmergencyOut], **ERRORS}, summary="Emergencies")
def list_emergencies(request, open_only: bool = False):
    return [_out(e, with_events=False) for e in selectors.emergencies(request.user, open_only=open_only)]


@router.post("/emergencies", response={201: EmergencyOut, **ERRORS}, summary="Report an emergency")
@permission("emergency.report")
def create_emergency(request, payload: EmergencyIn):
    emergency = services.report_emergency(
        request.user,
        title=payload.title,
        kind=payload.kind,
        level=payload.level,
        description=payload.description,
        address=payload.address,
        lat=payload.lat,
        lng=payload.lng,
        grid_code=payload.grid,
        lead_unit_code=payload.lead_unit,
        arrival_target_minutes=payload.arrival_target_minutes,
    )
    return Status(201, _out(emergency))


@router.get("/emergencies/{number}", response={200: EmergencyOut, **ERRORS}, summary="One emergency")
def get_emergency(request, number: str):
    return _out(selectors.emergency_for(request.user, number))


class EmergencyActionIn(Schema):
    note: str = ""
    units: list[str] = []


@router.post(
    "/emergencies/{number}/{action}",
    response={200: EmergencyOut, **ERRORS},
    summary="Move an emergency along its timeline",
)
@permission("emergency.step.{action}")
def act(request, number: str, action: str, payload: EmergencyActionIn):
    """``dispatch``, ``arrive``, ``engage`` (with ``units``), ``recover``, ``close``, ``cancel``.
    409 when the emergency's state does not allow the action."""
    emergency = services.transition(
        request.user, number=number, action=action, note=payload.note, unit_codes=payload.units
    )
    return _out(emergency)


class CheckIn(Schema):
    result: str
    note: str = ""


class CheckOut(Schema):
    id: int
    result: str


@router.post("/emergency/checks/{check_id}", response={200: CheckOut, **ERRORS}, summary="Record a care check")
@permission("emergency.check")
def check(request, check_id: int, payload: CheckIn):
    c = services.record_check(request.user, check_id=check_id, result=payload.result, note=payload.note)
    return {"id": c.pk, "result": c.result}


# --- alerts, stock, measures, map ---------------------------------------------------------------


class AlertOut(Schema):
    id: int
    level: str
    status: str
    message: str
    raised_at: dt.datetime
    case: str | None
    emergency: str | None


def _alert_out(a):
    return {
        "id": a.pk,
        "level": a.level,
        "status": a.status,
        "message": a.message,
        "raised_at": a.raised_at,
        "case": a.case.number if a.case_id else None,
        "emergency": a.emergency.number if a.emergency_id else None,
    }


@router.get("/emergency/alerts", response={200: list[AlertOut], **ERRORS}, summary="Alerts")
def list_alerts(request, open_only: bool = False):
    return [_alert_out(a) for a in selectors.alerts(request.user, open_only=open_only)]


class DecideIn(Schema):
    confirm: bool
    note: str = ""


@router.post(
    "/emergency/alerts/{alert_id}/decide", response={200: AlertOut, **ERRORS}, summary="Confirm or dismiss an alert"
)
@permission("emergency.alert")
def decide(request, alert_id: int, payload: DecideIn):
    return _alert_out(
        services.decide_alert(request.user, alert_id=alert_id, confirm=payload.confirm, note=payload.note)
    )


class MovementIn(Schema):
    kind: str
    quantity: int
    note: str = ""
    emergency: str = ""


class MovementOut(Schema):
    id: int
    kind: str
    quantity: int
    balance: int


@router.post(
    "/emergency/stocks/{stock_id}/movements",
    response={201: MovementOut, **ERRORS},
    summary="Stock in, out or written off",
)
@permission("emergency.stock")
def move(request, stock_id: int, payload: MovementIn):
    m = services.move_stock(
        request.user,
        stock_id=stock_id,
        kind=payload.kind,
        quantity=payload.quantity,
        note=payload.note,
        emergency_number=payload.emergency,
    )
    return Status(201, {"id": m.pk, "kind": m.kind, "quantity": m.quantity, "balance": m.balance})


@router.get("/emergency/measures", response={200: dict, **ERRORS}, summary="Emergency measures")
def measures(request, year: int | None = None):
    selectors.require_read(request.user)
    year = params.check_year(year, "year") if year is not None else timezone.localdate().year
    return {
        "alert_accuracy": selectors.alert_accuracy(),
        "drill_coverage": selectors.drill_coverage(year),
        "training_pass_rate": selectors.training_pass_rate(year),
        "disposal": selectors.disposal_summary(request.user),
        "warnings": selectors.warning_counts(),
    }


@router.get("/emergency/map", response={200: dict, **ERRORS}, summary="Emergencies and devices as GeoJSON")
def map_layer(request):
    return selectors.map_features(request.user)
