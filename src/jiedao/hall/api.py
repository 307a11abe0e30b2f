"""/api/v1/hall: the public catalogue, applications (window and online), the queue and
好差评. Applicant identity numbers and phones are always masked in answers."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.common.throttle import Limit, api_limits
from jiedao.org.permissions import permission

from . import selectors, services, states
from .models import Delivery, RatingChannel, Ticket, TicketStatus

router = Router(tags=["hall"])


class MaterialOut(Schema):
    id: int
    name: str
    core: bool
    form: str
    source: str
    copies: int
    shared: bool


class ItemOut(Schema):
    code: str
    basic_code: str
    name: str
    item_type: str
    item_type_label: str
    level: str
    unit: str
    legal_basis: str
    conditions: str
    statutory_days: int
    promised_days: int
    fee: str
    fee_basis: str
    place: str
    hours: str
    online_depth: int
    visits_required: int
    appointment_allowed: bool
    pledge_allowed: bool
    target_group: str
    notice_url: str


class ItemDetailOut(ItemOut):
    materials: list[MaterialOut]


def item_out(item, with_materials=False):
    out = {
        "code": item.code,
        "basic_code": item.basic_code,
        "name": item.name,
        "item_type": item.item_type,
        "item_type_label": item.get_item_type_display(),
        "level": item.level,
        "unit": item.unit.name,
        "legal_basis": item.legal_basis,
        "conditions": item.conditions,
        "statutory_days": item.statutory_days,
        "promised_days": item.promised_days,
        "fee": item.fee,
        "fee_basis": item.fee_basis,
        "place": item.place,
        "hours": item.hours,
        "online_depth": item.online_depth,
        "visits_required": item.visits_required,
        "appointment_allowed": item.appointment_allowed,
        "pledge_allowed": item.pledge_allowed,
        "target_group": item.target_group,
        "notice_url": f"/hall/items/{item.code}/notice.pdf",
    }
    if with_materials:
        out["materials"] = [
            {
                "id": m.pk,
                "name": m.name,
                "core": m.core,
                "form": m.form,
                "source": m.source,
                "copies": m.copies,
                "shared": m.shared,
            }
            for m in item.materials.all()
        ]
    return out


@router.get("/hall/items", response=list[ItemOut], auth=None, throttle=api_limits(Limit("SEARCH_RATE")))
def list_items(request, q: str = ""):
    return [item_out(i) for i in selectors.search_items(q)]


@router.get("/hall/items/{code}", response=ItemDetailOut, auth=None, throttle=api_limits(Limit("PUBLIC_PAGE_RATE")))
def get_item(request, code: str):
    return item_out(selectors.item_by_code(code), with_materials=True)


class ApplicationIn(Schema):
    item_code: str = ""
    bundle_code: str = ""
    name: str
    id_number: str = ""
    phone: str = ""
    # material id → provided | missing | pledged
    materials: dict[str, str] = {}
    pledge_signed: bool = False
    assistant_name: str = ""
    assisted_reason: str = ""
    ticket_id: int | None = None


class ApplicationMaterialOut(Schema):
    id: int
    name: str
    core: bool
    status: str
    status_label: str
    # 免提交: the registry field that supplied the material, e.g. "一户一档·户籍"; "" otherwise.
    source: str = ""
    due_at: dt.datetime | None
    overdue: bool


class ApplicationOut(Schema):
    number: str
    title: str
    item_code: str | None
    bundle_code: str | None
    status: str
    status_label: str
    channel: str
    mode: str
    unit: str | None
    applicant_name: str
    applicant_id: str
    applicant_phone: str
    assisted: bool
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    due_at: dt.datetime | None
    statutory_due_at: dt.datetime | None
    issued_at: dt.datetime | None
    visits: int
    overdue: bool
    materials: list[ApplicationMaterialOut]
    children: list[dict]


@router.post("/hall/applications", response={201: ApplicationOut})
@permission("hall.apply", "hall.accept_at_window")
def create_application(request, payload: ApplicationIn):
    """Window staff accept at once (前台综合受理); residents apply online and wait for acceptance."""
    user = request.auth
    applicant = {"name": payload.name, "id_number": payload.id_number, "phone": payload.phone}
    if user.has_role("operator", "admin"):
        app = services.accept_at_window(
            user,
            applicant=applicant,
            materials=payload.materials,
            item_code=payload.item_code,
            bundle_code=payload.bundle_code,
            pledge_signed=payload.pledge_signed,
            assistant_name=payload.assistant_name,
            assisted_reason=payload.assisted_reason,
            ticket_id=payload.ticket_id,
        )
    else:
        app = services.submit_online(
            user, item_code=payload.item_code, applicant=applicant, materials=payload.materials
        )
    return Status(201, selectors.application_out(app))


@router.get("/hall/applications/{number}", response=ApplicationOut)
def get_application(request, number: str):
    return selectors.application_out(selectors.application_for(request.auth, number))


class HallActionIn(Schema):
    note: str = ""
    material_id: int | None = None
    at_window: bool = True
    delivery: str = Delivery.WINDOW
    level: int | None = None
    channel: str = RatingChannel.PORTAL
    token: str = ""


@router.post("/hall/applications/{number}/actions/{action}", response=ApplicationOut)
@permission("hall.application.{action}")
def act(request, number: str, action: str, payload: HallActionIn):
    """accept, refuse, supply, approve, reject, issue, rate. 422 on ``action`` for any other action,
    whatever the number; 409 when the state does not allow it."""
    user = request.auth
    states.APPLICATIONS.get(action)
    selectors.application_for(user, number, token=payload.token)
    services.apply_action(user, number=number, action=action, data=payload.dict())
    return selectors.application_out(selectors.application_for(user, number, token=payload.token))


class TicketIn(Schema):
    group: str
    priority: bool = False


class TicketOut(Schema):
    id: int
    number: str
    group: str
    priority: bool
    status: str
    window: str
    taken_at: dt.datetime
    called_at: dt.datetime | None
    waiting_before: int


def ticket_out(ticket):
    before = (
        Ticket.objects.filter(
            day=ticket.day, group=ticket.group, status=TicketStatus.WAITING, taken_at__lt=ticket.taken_at
        ).count()
        if ticket.status == "waiting"
        else 0
    )
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "group": ticket.group,
        "priority": ticket.priority,
        "status": ticket.status,
        "window": ticket.window,
        "taken_at": ticket.taken_at,
        "called_at": ticket.called_at,
        "waiting_before": before,
    }


@router.post("/hall/tickets", response={201: TicketOut}, auth=None, throttle=api_limits(Limit("HALL_TICKET_RATE")))
@permission("public.ticket")
def take_ticket(request, payload: TicketIn):
    return Status(201, ticket_out(services.take_ticket(payload.group, priority=payload.priority)))


class CallIn(Schema):
    window: str
    groups: list[str] = []


@router.post("/hall/tickets/call", response=TicketOut)
@permission("hall.queue")
def call_next(request, payload: CallIn):
    return ticket_out(services.call_next(request.auth, window=payload.window, groups=payload.groups or None))


@router.get("/hall/measures")
def get_measures(request, days: int = 365):
    if not request.auth.has_role("leader", "admin"):
        raise NotAllowed()
    if not 1 <= days <= 3660:
        raise ValidationFailed("days", _("统计天数应在 1 到 3660 之间。"))
    end = timezone.now()
    m = selectors.measures(end - dt.timedelta(days=days), end)
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in m.items()}


class AppointmentIn(Schema):
    item_code: str
    starts_at: dt.datetime


class AppointmentOut(Schema):
    id: int
    item_code: str
    starts_at: dt.datetime
    state: str


@router.post("/hall/appointments", response={201: AppointmentOut})
@permission("hall.book")
def book(request, payload: AppointmentIn):
    """Book a half-hour slot; 409 when the slot is full."""
    a = services.book(request.auth, item_code=payload.item_code, starts_at=payload.starts_at)
    return Status(201, {"id": a.pk, "item_code": a.item.code, "starts_at": a.starts_at, "state": a.state})
