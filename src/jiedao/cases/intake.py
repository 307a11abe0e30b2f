"""受理: a new case from any door (the intake page, the grid worker's report, the resident's
portal, the API, Open311, a sensor), in small steps:

1. a request sent again under the same idempotency key returns the case made the first time;
2. ``check_input``: every field is checked and every broken rule is reported at once (422),
   after the channel (403 when the person may not use that door);
3. ``locate``: the position (given, or of a typed address: ``hooks.address_locator``), the
   grid and community there, and the street that answers for the case;
4. ``propose_category``: the classifier's proposal (``hooks.intake_classifier``), which above
   its threshold classifies the case and dispatches it;
5. ``new_case``: the case row, unsaved, with the reporter (a resident's own account);
6. ``plan_dispatch``: where it goes when it is dispatched at once — routed and given its
   deadlines before anything is written, so a case that cannot be routed is refused with
   nothing written; ``attach``: merged at once into an open case the reporter chose (并案);
7. ``prepare``: the case row and its first events (create, then dispatch or merge) made ready
   to insert, encrypted and encoded, before the transaction — on SQLite a write transaction
   holds the whole database, so it should only run statements;
8. in one transaction: the number (``numbering``), the row, the photos, the first events (one
   insert), the proposal, the idempotency key, the master's ``absorb`` event, the unit's notices.

The new case's status is the lifecycle's: the table's target of "dispatch" or "merge" when
the case is dispatched or merged at once, otherwise its first state. ``hooks.case_created``
is sent once the transaction commits.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from jiedao.common import idempotency, rows
from jiedao.common.crypto import blind_index
from jiedao.common.errors import FieldErrors, NotAllowed, ValidationFailed
from jiedao.common.lifecycle import assign_status
from jiedao.org import permissions
from jiedao.org.models import Community, Grid

from . import dispatching, hooks, numbering, selectors, telling, validation
from .models import OPEN_STATUSES, VOID_REASONS, Case, CasePhoto, Category, Channel, Outcome, Status
from .routing import RouteDecision
from .states import CASE, NOTES

# Who may register a case through a channel: a row of the permission table per kind of channel.
CHANNEL_ACTIONS = {
    Channel.PORTAL: "intake.portal",
    Channel.QR: "intake.portal",
    Channel.HOTLINE_12345: "intake.hotline",
    Channel.PHONE: "intake.hotline",
    Channel.WINDOW: "intake.hotline",
    Channel.LETTER: "intake.hotline",
    Channel.LEADER_MAILBOX: "intake.hotline",
    Channel.GRID: "intake.grid",
    Channel.API: "intake.api",
    Channel.SENSOR: "intake.api",
}

MAX_NAME = 50
MAX_ADDRESS = 200


@dataclass
class Request:
    """The checked input of one intake."""

    channel: str
    description: str
    reporter_name: str
    reporter_phone: str
    lat: float | None
    lng: float | None
    address: str
    grid: Grid | None
    community: Community | None
    category: Category | None
    photos: list
    dispatch: bool
    master: Case | None
    street_id: int | None = None
    # 三事分流: settled by the desk (``Outcome``), with the answer or advice given, or the reason
    # a call is void.
    outcome: str = ""
    answer: str = ""
    void_reason: str = ""


@dataclass
class Registered:
    """What the intake did: the case, whether it was made now (not a replay), and what it
    wrote besides: the photos, and whether a co-handling task (a ``Whistle``) was opened."""

    case: Case
    created: bool
    photos: list = field(default_factory=list)
    cohandled: bool = False


def submit(user, **fields: Any) -> tuple[Case, bool]:
    """``register`` (the same keyword arguments), answering ``(case, created)``."""
    registered = register(user, **fields)
    return registered.case, registered.created


def register(
    user,
    *,
    channel: str,
    description: str,
    reporter_name: str = "",
    reporter_phone: str = "",
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    community_code: str = "",
    grid_code: str = "",
    category_code: str = "",
    photos=(),
    dispatch: bool = False,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
    attach_to: str = "",
    propose: bool = False,
    outcome: str = "",
    answer: str = "",
    void_reason: str = "",
) -> Registered:
    """Register a new case from any door; answers what was written: the case, whether it is
    new (not a replay of the same ``idempotency_key``), its photos and whether a co-handling
    task was opened (the API's answer is built from them without reading the case back).

    ``attach_to``: the number of an open case reporting the same matter: the new case is merged
    into it at once (并案). ``dispatch``: routed at once (needs a category). The classifier's
    proposal is made and kept when no category is given, or with ``propose`` (the intake page
    showed it to the operator, so whether they kept it is measured).

    ``outcome`` (三事分流): a call the desk settles instead of dispatching — ``answered`` (a
    consultation answered, ``answer`` the answer given), ``advised`` (a private matter, ``answer``
    the advice), ``voided`` (``void_reason`` one of ``VOID_REASONS``; a repeat of an open case is
    attached to it with ``attach_to`` instead); or a grid worker's small matter fixed on the spot,
    ``self_resolved`` (已自行处置: ``answer`` what was done, at least one photo, in one of the
    worker's own grids). The case is closed at once, its log saying how."""
    previous = replayed(user, idempotency_key)
    if previous is not None:
        return Registered(previous, created=False)
    request = check_input(
        user,
        channel=channel,
        description=description,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        lat=lat,
        lng=lng,
        address=address,
        community_code=community_code,
        grid_code=grid_code,
        category_code=category_code,
        photos=photos,
        dispatch=dispatch,
        attach_to=attach_to,
        outcome=outcome,
        answer=answer,
        void_reason=void_reason,
    )
    locate(user, request)
    now = at or timezone.now()
    proposal = propose_category(request, propose)
    case = new_case(user, request, now)
    decision = plan_dispatch(case, request, proposal, now)
    attach(case, request, now)
    ready = prepare(user, case, request, decision, proposal, now)
    with transaction.atomic():
        registered = write(user, case, request, decision, proposal, now, idempotency_key, ready)
    hooks.send_on_commit(hooks.case_created, Case, case=case)
    return registered


# --- 1. a request sent again --------------------------------------------------------------------


def replayed(user, key: str | None) -> Case | None:
    """The case this user already made under the idempotency ``key``, if any."""
    previous = idempotency.previous(user, "case", key)
    return Case.objects.get(pk=previous) if previous is not None else None


# --- 2. the input ----------------------------------------------------------------------------------


def check_input(
    user,
    *,
    channel,
    description,
    reporter_name,
    reporter_phone,
    lat,
    lng,
    address,
    community_code,
    grid_code,
    category_code,
    photos,
    dispatch,
    attach_to,
    outcome="",
    answer="",
    void_reason="",
) -> Request:
    """Every field checked, every broken rule reported at once (``ValidationFailed``)."""
    errors = FieldErrors()
    outcome, answer, void_reason = check_outcome(
        errors, user, outcome=outcome, answer=answer, void_reason=void_reason, dispatch=dispatch, attach_to=attach_to
    )
    check_channel(errors, user, channel)
    description = validation.check_description(errors, "description", description)
    reporter_name, reporter_phone = check_reporter(errors, user, reporter_name, reporter_phone)
    lat, lng = validation.check_location(errors, lat, lng)
    address = (address or "").strip()
    if len(address) > MAX_ADDRESS:
        errors.add("address", _("地址不能超过200个字。"))
    grid, community = check_place(errors, grid_code, community_code)
    category = category_by_code(errors, category_code)
    photos = validation.check_photos(errors, "photos", photos)
    if outcome == Outcome.SELF_RESOLVED and not photos and "photos" not in {e["field"] for e in errors.errors}:
        errors.add("photos", SELF_RESOLVED_PHOTO_MESSAGE)
    if dispatch and not category_code:
        errors.add("category", _("立即派单需要先选择分类。"))
    master = check_master(errors, attach_to)
    errors.raise_if_any()
    return Request(
        channel=channel,
        description=description,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        lat=lat,
        lng=lng,
        address=address,
        grid=grid,
        community=community,
        category=category,
        photos=photos,
        dispatch=dispatch,
        master=master,
        outcome=outcome,
        answer=answer,
        void_reason=void_reason,
    )


OUTCOME_ACTIONS: dict[str, str] = {Outcome.ANSWERED: "answer", Outcome.ADVISED: "advise", Outcome.VOIDED: "void"}
# Besides the desk's outcomes, a grid worker's report may close a small matter fixed on the spot
# (已自行处置): ``answer`` says what was done, with at least one photo (kept as 办结照片).
SETTLE_ACTIONS: dict[str, str] = {**OUTCOME_ACTIONS, Outcome.SELF_RESOLVED: "self_resolve"}
MAX_ANSWER = 2000
SELF_RESOLVED_PHOTO_MESSAGE = _lazy("当场已处置的小事请至少上传一张处置后的现场照片。")


def check_outcome(errors: FieldErrors, user, *, outcome, answer, void_reason, dispatch, attach_to) -> tuple:
    """三事分流: the outcome one of ``Outcome``, taken by a role allowed to settle calls, with its
    answer (answered, advised; what was done when self-resolved) or its reason (void); never
    together with dispatching or attaching."""
    outcome = (outcome or "").strip()
    answer = (answer or "").strip()
    void_reason = (void_reason or "").strip()
    if not outcome:
        return "", "", ""
    if outcome not in SETTLE_ACTIONS:
        errors.add("outcome", _("处理方式“%(value)s”无效。") % {"value": outcome[:20]})
        return "", "", ""
    action = SETTLE_ACTIONS[outcome]
    permissions.require(user, f"case.{action}")
    if outcome == Outcome.VOIDED:
        if void_reason not in VOID_REASONS:
            errors.add("void_reason", _("请选择无效原因。重复来电请选中原工单并入，不要记为无效。"))
        answer = answer[:MAX_ANSWER]
    else:
        _field, message = NOTES[action]
        if not answer:
            errors.add("answer", message)
        elif len(answer) > MAX_ANSWER:
            errors.add("answer", _("答复内容不能超过 %(max)d 个字。") % {"max": MAX_ANSWER})
    if dispatch:
        errors.add("dispatch", _("已当场处理的来电不再派单：请取消“立即派单”，或选择“派单办理”。"))
    if (attach_to or "").strip():
        errors.add("attach_to", _("关联已有工单时不能同时选择其他处理方式。"))
    return outcome, answer, void_reason


def outcome_data(void_reason: str) -> dict | None:
    """What a desk outcome's event records: a void call's reason, as code and as said."""
    return {"reason": void_reason, "reason_label": str(VOID_REASONS[void_reason])} if void_reason else None


def check_channel(errors: FieldErrors, user, channel) -> None:
    """A known channel (422), and one this person may use (403 at once)."""
    if channel not in Channel.values:
        errors.add("channel", _("来源渠道“%(value)s”无效。") % {"value": channel})
    elif not permissions.allows(user, CHANNEL_ACTIONS[channel]):
        raise NotAllowed(_("您不能以“%(channel)s”渠道登记工单。") % {"channel": Channel(channel).label})


def check_reporter(errors: FieldErrors, user, name, phone) -> tuple[str, str]:
    """The reporter's name and phone: a resident's own by default; the phone is required unless
    street staff take the case in (a caller may stay anonymous to them)."""
    signed_in = user is not None and user.is_authenticated
    resident = signed_in and user.has_role("resident")
    if resident and not phone:
        phone = user.phone
    if resident and not name:
        name = user.display_name
    phone = validation.check_phone(errors, "reporter_phone", phone, required=not signed_in or not user.is_street_staff)
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        errors.add("reporter_name", _("姓名不能超过50个字。"))
    return name, phone


def check_place(errors: FieldErrors, grid_code, community_code) -> tuple[Grid | None, Community | None]:
    """The grid and the community named by their codes, if given."""
    grid = community = None
    if grid_code:
        grid = Grid.objects.select_related("community").filter(code=grid_code).first()
        if grid is None:
            errors.add("grid", _("网格编码“%(code)s”不存在。") % {"code": grid_code})
    if community_code:
        community = Community.objects.filter(code=community_code).first()
        if community is None:
            errors.add("community", _("社区代码“%(code)s”不存在。") % {"code": community_code})
    return grid, community


def category_by_code(errors: FieldErrors, code, field="category") -> Category | None:
    """The active leaf category of the code (none for no code)."""
    if not code:
        return None
    category, has_children = selectors.active_category(code)
    if category is None:
        errors.add(field, _("分类代码“%(code)s”不存在或已停用。") % {"code": code})
    elif has_children:
        errors.add(field, _("请选择最末一级分类（“%(name)s”下还有子分类）。") % {"name": category.name})
    return category


def check_master(errors: FieldErrors, number) -> Case | None:
    """The open case the reporter chose to follow (``attach_to``), if any."""
    if not number:
        return None
    master = Case.objects.filter(number=str(number).strip(), status__in=OPEN_STATUSES).first()
    if master is None:
        errors.add("attach_to", _("要关注的工单 %(number)s 不存在或已结束。") % {"number": number})
    return master


# --- 3. the place ----------------------------------------------------------------------------------


def locate(user, request: Request) -> None:
    """The position (an address the household registry knows gives one), the grid there and
    its community, and the street answering for the case; 422 when the street cannot be told."""
    if request.grid is None and request.lat is None and request.address:
        point = hooks.address_locator(request.address)
        if point is not None:
            request.lat, request.lng = point
    if request.grid is None and request.lat is not None:
        request.grid = selectors.grid_at(request.lat, request.lng)
    if request.grid is not None:
        request.community = request.grid.community
    if request.master is not None:
        request.street_id = request.master.street_id
    else:
        request.street_id = selectors.intake_street_id(user, request.community)
    if request.street_id is None:
        raise ValidationFailed("community", _("本系统有多个街道：请填写社区、网格或位置，以确定由哪个街道受理。"))
    if request.outcome == Outcome.SELF_RESOLVED:
        check_own_grid(user, request)


def check_own_grid(user, request: Request) -> None:
    """A small matter closed on the spot (已自行处置) lies in one of the grid worker's own grids:
    the row's scope (``own_grid``), told at intake as a rule of the report (422 on ``grid``)."""
    if request.grid is None:
        raise ValidationFailed("grid", _("当场已处置的小事需要定位或选择网格，以确认在您负责的网格内。"))
    if not user.grids.filter(pk=request.grid.pk).exists():
        raise ValidationFailed(
            "grid",
            _("位置在%(grid)s，不是您负责的网格，不能记为当场已处置；请按普通上报。")
            % {"grid": f"{request.grid.community.name} {request.grid.name}"},
        )


# --- 4. the classifier's proposal ---------------------------------------------------------------


def propose_category(request: Request, propose: bool):
    """The classifier's proposal for a case that is not attached to another, when no category
    was chosen or the page asks (``propose``); an automatic one classifies the case."""
    if request.master is not None or request.outcome or not (request.category is None or propose):
        return None
    proposal = hooks.intake_classifier(request.description, request.category)
    if proposal is not None and proposal.auto:
        request.category = proposal.category
    return proposal


# --- 5. the case row -------------------------------------------------------------------------------


def new_case(user, request: Request, now) -> Case:
    """The case as registered, not yet saved nor numbered."""
    signed_in = user is not None and user.is_authenticated
    phone = request.reporter_phone
    return Case(
        channel=request.channel,
        status=first_status(request),
        category=request.category,
        description=request.description,
        reporter_name=request.reporter_name,
        reporter_phone=phone,
        reporter_phone_index=blind_index(phone) if phone else "",
        reporter=user if signed_in and user.has_role("resident") else None,
        address=request.address,
        lat=request.lat,
        lng=request.lng,
        street_id=request.street_id,
        community=request.community,
        grid=request.grid,
        created_by=user if signed_in else None,
        created_at=now,
        outcome=request.outcome,
        closed_at=now if request.outcome else None,
    )


def first_status(request: Request) -> str:
    """Where the case starts: merged at once into the case it follows, or new (dispatching at
    once moves it on before it is saved, ``plan_dispatch``)."""
    if request.master is not None:
        return CASE.next_status(CASE.transitions["merge"], Status.NEW)
    if request.outcome:
        return CASE.next_status(CASE.transitions[SETTLE_ACTIONS[request.outcome]], Status.NEW)
    return Status.NEW


# --- 6. dispatching at once, attaching -----------------------------------------------------------


def plan_dispatch(case: Case, request: Request, proposal, now) -> RouteDecision | None:
    """Route a case dispatched at once (asked, or the classifier is sure) and set its unit,
    deadlines and status, before anything is written: an unroutable case asked to be
    dispatched is refused (422); one the classifier was sure of waits for the dispatcher."""
    if request.master is not None or request.outcome:
        return None
    auto = proposal is not None and proposal.auto
    if not (request.dispatch or auto):
        return None
    try:
        decision = dispatching.route_for_dispatch(case)
    except ValidationFailed:
        if request.dispatch:
            raise
        proposal.auto = False  # no unit for it: the dispatcher classifies and decides
        request.category = case.category = None
        return None
    dispatching.apply_dispatch(case, decision, now)
    # The case is inserted already dispatched; its log shows both steps (``first_events``).
    assign_status(case, CASE.next_status(CASE.transitions["dispatch"], case.status))
    return decision


def attach(case: Case, request: Request, now) -> None:
    """A case the reporter attached to an open one is merged into it at once (its category,
    unless one was chosen)."""
    if request.master is None:
        return
    case.master = request.master
    case.closed_at = now
    case.category = request.category or request.master.category


# --- 7. made ready ------------------------------------------------------------------------------


@dataclass
class Ready:
    """The case row and its first events, their values prepared; the case's number and the
    events' key to it are filled in when they are inserted."""

    case: rows.Prepared
    events: rows.Prepared


def prepare(user, case: Case, request: Request, decision, proposal, now) -> Ready:
    """The rows ``write`` inserts first, made ready outside the transaction."""
    events = first_events(user, case, request, decision, proposal, now)
    return Ready(case=rows.prepare([case], late=("number",)), events=rows.prepare(events, late=("case_id",)))


# --- 8. writing ---------------------------------------------------------------------------------------


def write(user, case: Case, request: Request, decision, proposal, now, idempotency_key, ready: Ready) -> Registered:
    """Everything the intake writes, in the caller's transaction. Where the database locks rows,
    every intake queues on the day's counter row from the moment it takes a number until it
    commits: the case is inserted under a provisional number and takes the real one after the
    other inserts (SQLite locks the whole database for the transaction anyway: numbered at once)."""
    number_last = numbering.connection_locks_rows()
    case.number = numbering.provisional_number() if number_last else numbering.next_number(now)
    rows.insert_prepared(ready.case)
    photos = save_photos(case, request.photos, kind=photo_kind(request))
    for event in rows.insert_prepared(ready.events):
        hooks.event_recorded(event)
    if proposal is not None:
        proposal.save_for(case)
    idempotency.remember(user, "case", idempotency_key, case.pk)
    if number_last:
        case.number = numbering.renumber(case, now)
    if request.master is not None:
        master = Case.objects.select_for_update().get(pk=request.master.pk)  # its log gets the next event
        CASE.record(master, "absorb", user, at=now, data={"duplicate": case.number})
    cohandled = decision is not None and dispatching.send_notices(user, case, decision, now)
    if request.master is None and not request.outcome:
        telling.receipt(case, phone=request.reporter_phone, at=now)
    return Registered(case, created=True, photos=photos, cohandled=cohandled)


def save_photos(case: Case, uploads, kind: str = CasePhoto.Kind.INTAKE) -> list:
    """The reporter's photos, stored with the case."""
    return [CasePhoto.objects.create(case=case, kind=kind, image=upload) for upload in uploads]


def photo_kind(request: Request) -> str:
    """A matter fixed on the spot shows its result (办结照片); any other report the matter."""
    return CasePhoto.Kind.RESULT if request.outcome == Outcome.SELF_RESOLVED else CasePhoto.Kind.INTAKE


def first_events(user, case: Case, request: Request, decision, proposal, now) -> list:
    """The log's first events, not yet saved: ``create``, then ``dispatch`` (with the classifier's
    note when it dispatched) or ``merge``, or the desk's outcome."""
    # The category as given (a case attached to another without one has taken that case's).
    category, grid, community = request.category, case.grid, case.community
    events = [
        CASE.unsaved(
            case,
            "create",
            user,
            before="",
            after=Status.NEW,
            at=now,
            seq=1,
            unit=None,
            data={
                "channel": case.channel,
                "category": category.code if category else None,
                "grid": grid.code if grid else None,
                "community": community.code if community else None,
                "photos": len(request.photos),
            },
        )
    ]
    if decision is not None:
        auto = proposal is not None and proposal.auto
        data = dispatching.dispatch_data(case, decision, manual=False)
        if auto:
            data.update(proposal.event_data())
        events.append(
            CASE.unsaved(
                case,
                "dispatch",
                user,
                before=Status.NEW,
                after=case.status,
                at=now,
                seq=2,
                note=proposal.note() if auto else "",
                data=data,
            )
        )
    if request.master is not None:
        events.append(
            CASE.unsaved(
                case,
                "merge",
                user,
                before=Status.NEW,
                after=case.status,
                at=now,
                seq=2,
                note=_("诉求人确认与已有工单为同一问题"),
                data={"master": request.master.number, "by_reporter": True},
            )
        )
    if request.outcome:
        reason = request.void_reason
        data = outcome_data(reason)
        if request.outcome == Outcome.SELF_RESOLVED:
            data = {"photos": len(request.photos)}
        events.append(
            CASE.unsaved(
                case,
                SETTLE_ACTIONS[request.outcome],
                user,
                before=Status.NEW,
                after=case.status,
                at=now,
                seq=2,
                unit=None,
                note=request.answer,
                data=data,
            )
        )
    return events
