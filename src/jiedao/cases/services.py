"""Every write to a case. Each function takes the acting user and plain values,
checks the role and the state against ``states.TRANSITIONS``, changes the rows and
writes the event in one transaction, and returns the case."""

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import idempotency
from jiedao.common.crypto import blind_index
from jiedao.common.errors import FieldErrors, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, Grid, Unit
from jiedao.workcal.calendar import SHANGHAI, add_hours, add_workdays, workday_deadline

from . import selectors, states, validation
from .models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePhoto,
    Channel,
    Extension,
    Notification,
    Rating,
    RoutingRule,
    Status,
    Urgency,
    Whistle,
    WhistleSummons,
)

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


# --- helpers ----------------------------------------------------------------


def _now(at=None):
    return at or timezone.now()


def _next_number(at: dt.datetime) -> str:
    """JD + local date + 5-digit sequence of the day, e.g. JD2026112200017.

    The day's counter row is incremented inside the caller's transaction, so a case
    that is rolled back gives its number back and numbers stay consecutive. Where the
    database locks rows (PostgreSQL) that row stays locked until the transaction ends,
    so callers take the number as late as they can (see ``submit_case``)."""
    day = at.astimezone(SHANGHAI).date()
    last = _bump_counter(day)
    if last is None:
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(day=day, last=1)
            last = 1
        except IntegrityError:  # another request created the day's row first
            last = _bump_counter(day)
    return f"{settings.JIEDAO['CASE_NUMBER_PREFIX']}{day:%Y%m%d}{last:05d}"


def connection_locks_rows() -> bool:
    """Whether the database locks single rows (PostgreSQL), not the whole database (SQLite)."""
    return connections[router.db_for_write(Case)].features.has_select_for_update


def _provisional_number() -> str:
    """A unique stand-in for a case number, replaced before the transaction commits."""
    return "~" + secrets.token_hex(9)


def _bump_counter(day):
    """Add one to the day's counter and return the new value (None when the day has no row yet)."""
    connection = connections[router.db_for_write(CaseNumberCounter)]
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35: no RETURNING
        if not CaseNumberCounter.objects.filter(day=day).update(last=F("last") + 1):
            return None
        return CaseNumberCounter.objects.filter(day=day).values_list("last", flat=True).get()
    opts = CaseNumberCounter._meta
    table, last = connection.ops.quote_name(opts.db_table), connection.ops.quote_name(opts.get_field("last").column)
    day_column = connection.ops.quote_name(opts.get_field("day").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 WHERE {day_column} = %s RETURNING {last}",
            [opts.get_field("day").get_db_prep_value(day, connection)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _next_seq(case):
    return (case.events.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1


_FROM_CASE = object()


def _event(
    case,
    seq,
    action,
    actor,
    from_status,
    note="",
    data=None,
    at=None,
    actor_unit=None,
    to_status=_FROM_CASE,
    unit=_FROM_CASE,
):
    """An unsaved event of the case's log with the given ``seq``. ``to_status`` and
    ``unit`` (the status and unit after the event) default to the case's."""
    return CaseEvent(
        case=case,
        seq=seq,
        at=_now(at),
        actor=actor if (actor is not None and actor.is_authenticated) else None,
        actor_unit=actor_unit if actor_unit is not None else getattr(actor, "unit", None),
        unit=case.unit if unit is _FROM_CASE else unit,
        action=action,
        from_status=from_status or "",
        to_status=case.status if to_status is _FROM_CASE else to_status,
        note=note or "",
        data=data or {},
    )


def record_event(case, action, actor, from_status, note="", data=None, at=None, actor_unit=None, seq=None):
    """Append one event to the case's log (the caller holds the transaction). ``seq``:
    the event's number when the caller knows it (saves reading the last one)."""
    if seq is None:
        seq = _next_seq(case)
    event = _event(case, seq, action, actor, from_status, note=note, data=data, at=at, actor_unit=actor_unit)
    event.save(force_insert=True)
    return event


def _scope_ok(user, case, scope) -> bool:
    if scope == states.ANY:
        # Anyone of the role — within the streets the user answers for.
        ids = user.street_ids
        return ids is None or case.street_id in ids
    if scope == states.OWN_UNIT:
        return user.unit_id is not None and user.unit_id == case.unit_id
    if scope == states.SUMMONED:
        return (
            user.unit_id is not None
            and WhistleSummons.objects.filter(whistle__case=case, unit_id=user.unit_id).exists()
        )
    if scope == states.OWN_REPORT:
        return case.reporter_id is not None and case.reporter_id == user.pk
    if scope == states.OWN_GRID:
        return case.grid_id is None or user.grids.filter(pk=case.grid_id).exists()
    return False


def may_take(user, case, action, proven_reporter=False) -> bool:
    """Whether the user may take ``action`` on the case now (role, relation and state)."""
    transition = states.TRANSITIONS[action]
    if not states.can_take(transition, case.status):
        return False
    for role, scope in transition.actors:
        if scope == states.PUBLIC:
            if proven_reporter:
                return True
            continue
        if user is not None and user.is_authenticated and user.has_role(role) and _scope_ok(user, case, scope):
            return True
    return False


def _authorize(user, case, action, proven_reporter=False):
    transition = states.TRANSITIONS[action]
    if not states.can_take(transition, case.status):
        raise InvalidTransition(
            _("工单 %(number)s 当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"number": case.number, "status": case.get_status_display(), "action": transition.label}
        )
    if not may_take(user, case, action, proven_reporter=proven_reporter):
        raise NotAllowed(
            _("您无权对工单 %(number)s 执行“%(action)s”。") % {"number": case.number, "action": transition.label}
        )
    return transition


def _locked(case_or_number):
    number = case_or_number.number if isinstance(case_or_number, Case) else case_or_number
    try:
        return Case.objects.select_for_update(of=("self",)).select_related("category", "unit").get(number=number)
    except Case.DoesNotExist:
        raise NotFound(_("工单 %(number)s 不存在。") % {"number": number}) from None


def _require_note(note, field="note", message=None):
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(field, message or _("请填写说明，此项为必填。"))
    return note


def _notify(unit=None, user=None, case=None, kind="", message=""):
    Notification.objects.create(unit=unit, user=user, case=case, kind=kind, message=message[:300])


def _category_by_code(errors, code, field="category"):
    if not code:
        return None
    category, has_children = selectors.active_category(code)
    if category is None:
        errors.add(field, _("分类代码“%(code)s”不存在或已停用。") % {"code": code})
    elif has_children:
        errors.add(field, _("请选择最末一级分类（“%(name)s”下还有子分类）。") % {"name": category.name})
    return category


# --- routing and deadlines --------------------------------------------------


def _category_chain(category):
    """Ids of the category and of every level above it (parents from the cache when known)."""
    known = selectors.routing_data().categories_by_id
    chain = []
    node = category
    while node is not None:
        chain.append(node.pk)
        if node.parent_id is None:
            break
        node = known.get(node.parent_id) or node.parent
    return chain


@dataclass
class RouteDecision:
    """Where a case goes and why: an override rule, the responsibility list, or the default."""

    unit: Unit | None
    reason: str
    rule: RoutingRule | None = None
    duty_version: object = None
    collaborators: list = field(default_factory=list)
    # The negative-list item that forbids handing the case to a street unit, if any.
    negative: object = None


def _same_street(unit, case) -> bool:
    """A rule or list entry naming another street's unit does not apply (a city installation)."""
    return case.street_id is None or unit.street_id == case.street_id


def route_decision(case) -> RouteDecision:
    """Routing, in order: an explicit override rule (first by priority) → the in-force
    responsibility list (主办 and 协办, or a negative-list block) → the street's default unit."""
    from jiedao.duties.selectors import route_for

    chain = _category_chain(case.category) if case.category_id else []
    for rule in selectors.routing_rules():
        if rule.category_id is not None and rule.category_id not in chain:
            continue
        if rule.community_id is not None and rule.community_id != case.community_id:
            continue
        if rule.grid_id is not None and rule.grid_id != case.grid_id:
            continue
        if not _same_street(rule.unit, case):
            continue
        return RouteDecision(rule.unit, _("派单规则 #%(id)s %(name)s") % {"id": rule.pk, "name": rule.name}, rule=rule)
    duty = route_for(case.category, case.community_id)
    if duty.blocked:
        return RouteDecision(None, duty.reason, duty_version=duty.version, negative=duty.negative)
    if duty.unit is not None and _same_street(duty.unit, case):
        return RouteDecision(duty.unit, duty.reason, duty_version=duty.version, collaborators=duty.collaborators)
    default_unit = selectors.street_default_unit(case.community_id, case.street_id)
    if default_unit is not None and default_unit.active:
        if duty.version is not None:
            # The duty belongs to "the community committee where it happens", but the case has no community.
            return RouteDecision(
                default_unit,
                _("权责清单 %(code)s 由所在社区承办，工单未定位到社区，派给街道默认承办单位")
                % {"code": duty.version.item.code},
                duty_version=duty.version,
            )
        return RouteDecision(default_unit, _("无匹配规则，派给街道默认承办单位"))
    return RouteDecision(None, "")


def route(case):
    """The unit for the case and why, as ``(unit, reason)``."""
    decision = route_decision(case)
    return decision.unit, decision.reason


def deadlines_for(category, start, duty_version=None):
    """(response_due, completion_due) for a case dispatched at ``start``: the duty item's
    limits when it has them, else the category's."""
    hours = float(category.response_hours)
    workdays = category.completion_workdays
    if duty_version is not None:
        if duty_version.response_hours is not None:
            hours = float(duty_version.response_hours)
        if duty_version.completion_workdays is not None:
            workdays = duty_version.completion_workdays
    response_due = add_hours(start, hours, category.office_hours_only)
    completion_due = workday_deadline(start, workdays)
    return response_due, completion_due


def _iso(value):
    return value.isoformat() if value else None


# --- intake (受理) -----------------------------------------------------------


def submit_case(
    user,
    *,
    channel,
    description,
    reporter_name="",
    reporter_phone="",
    lat=None,
    lng=None,
    address="",
    community_code="",
    grid_code="",
    category_code="",
    photos=(),
    dispatch=False,
    idempotency_key=None,
    at=None,
    attach_to="",
    propose=False,
):
    """Register a new case from any door. Returns ``(case, created)``. ``attach_to``: the number
    of an open case reporting the same matter: the new case is merged into it at once (并案).
    The classifier's proposal is made and kept when no category is given, or with ``propose``
    (the intake page showed it to the operator, so whether they kept it is measured)."""
    authenticated = user is not None and user.is_authenticated
    if idempotency_key and authenticated:
        previous = idempotency.previous(user, "case", idempotency_key)
        if previous is not None:
            return Case.objects.get(pk=previous), False

    errors = FieldErrors()
    if channel not in Channel.values:
        errors.add("channel", _("来源渠道“%(value)s”无效。") % {"value": channel})
    elif not _channel_allowed(user, channel):
        raise NotAllowed(_("您不能以“%(channel)s”渠道登记工单。") % {"channel": Channel(channel).label})
    description = validation.check_description(errors, "description", description)
    phone_required = not authenticated or not user.is_street_staff
    if authenticated and user.has_role("resident") and not reporter_phone:
        reporter_phone = user.phone
    if authenticated and user.has_role("resident") and not reporter_name:
        reporter_name = user.display_name
    phone = validation.check_phone(errors, "reporter_phone", reporter_phone, required=phone_required)
    reporter_name = (reporter_name or "").strip()
    if len(reporter_name) > 50:
        errors.add("reporter_name", _("姓名不能超过50个字。"))
    lat, lng = validation.check_location(errors, lat, lng)
    address = (address or "").strip()
    if len(address) > 200:
        errors.add("address", _("地址不能超过200个字。"))
    grid = community = None
    if grid_code:
        grid = Grid.objects.select_related("community").filter(code=grid_code).first()
        if grid is None:
            errors.add("grid", _("网格编码“%(code)s”不存在。") % {"code": grid_code})
    if community_code:
        community = Community.objects.filter(code=community_code).first()
        if community is None:
            errors.add("community", _("社区代码“%(code)s”不存在。") % {"code": community_code})
    category = _category_by_code(errors, category_code)
    photos = validation.check_photos(errors, "photos", photos)
    if dispatch and not category_code:
        errors.add("category", _("立即派单需要先选择分类。"))
    master = None
    if attach_to:
        master = Case.objects.filter(number=str(attach_to).strip(), status__in=OPEN_STATUSES).first()
        if master is None:
            errors.add("attach_to", _("要关注的工单 %(number)s 不存在或已结束。") % {"number": attach_to})
    errors.raise_if_any()

    if grid is None and lat is None and address:
        # An address the household registry knows (一户一档 buildings) gives the position.
        from jiedao.registry.selectors import point_for_address

        point = point_for_address(address)
        if point is not None:
            lat, lng = point
    if grid is None and lat is not None:
        grid = selectors.grid_at(lat, lng)
    if grid is not None:
        community = grid.community
    street_id = master.street_id if master is not None else selectors.intake_street_id(user, community)
    if street_id is None:
        errors.add("community", _("本系统有多个街道：请填写社区、网格或位置，以确定由哪个街道受理。"))
        errors.raise_if_any()

    now = _now(at)
    # 智能分拨: the active classifier's proposal; above the threshold it classifies and dispatches.
    from jiedao.intelligence.services import intake_proposal

    proposal = intake_proposal(description, category) if master is None and (category is None or propose) else None
    if proposal is not None and proposal.auto:
        category = proposal.category
    case = Case(
        channel=channel,
        status=Status.NEW,
        category=category,
        description=description,
        reporter_name=reporter_name,
        reporter_phone=phone,
        reporter_phone_index=blind_index(phone) if phone else "",
        reporter=user if authenticated and user.has_role("resident") else None,
        address=address,
        lat=lat,
        lng=lng,
        street_id=street_id,
        community=community,
        grid=grid,
        created_by=user if authenticated else None,
        created_at=now,
    )
    # Route and compute the deadlines before writing anything: a case that cannot be
    # routed is refused with nothing written, and the transaction below only inserts.
    # The case is inserted already dispatched; its log still shows the two steps
    # (create, then dispatch).
    decision = _route_for_dispatch(case) if dispatch and master is None else None
    if proposal is not None and proposal.auto and decision is None and master is None:
        try:
            decision = _route_for_dispatch(case)
        except ValidationFailed:  # no unit for it: the dispatcher classifies and decides
            proposal.auto = False
            category = case.category = None
    if decision is not None:
        _apply_dispatch(case, decision, now)
    if master is not None:
        case.status, case.master, case.closed_at = Status.MERGED, master, now
        case.category = category or master.category
    with transaction.atomic():
        # Where the database locks rows, every intake queues on the day's counter row
        # from the moment it takes a number until it commits: insert the case under a
        # provisional number and take the real one after the other inserts. (SQLite
        # locks the whole database for the transaction anyway: number it at once.)
        number_last = connection_locks_rows()
        case.number = _provisional_number() if number_last else _next_number(now)
        case.save(force_insert=True)
        saved_photos = [
            CasePhoto.objects.create(case=case, kind=CasePhoto.Kind.INTAKE, image=upload) for upload in photos
        ]
        events = [
            _event(
                case,
                1,
                "create",
                user,
                "",
                to_status=Status.NEW,
                unit=None,
                at=now,
                data={
                    "channel": channel,
                    "category": category.code if category else None,
                    "grid": grid.code if grid else None,
                    "community": community.code if community else None,
                    "photos": len(photos),
                },
            )
        ]
        if decision is not None:
            events.append(_dispatch_event(user, case, decision, Status.NEW, "", now, False, seq=2))
            if proposal is not None and proposal.auto:
                events[-1].note = proposal.note()
                events[-1].data.update(auto=True, confidence=proposal.confidence, model=proposal.version.pk)
        if master is not None:
            events.append(
                _event(
                    case,
                    2,
                    "merge",
                    user,
                    Status.NEW,
                    at=now,
                    note=_("诉求人确认与已有工单为同一问题"),
                    data={"master": master.number, "by_reporter": True},
                )
            )
        CaseEvent.objects.bulk_create(events)
        if proposal is not None:
            proposal.save_for(case)
        if idempotency_key and authenticated:
            idempotency.remember(user, "case", idempotency_key, case.pk)
        if number_last:
            case.number = _next_number(now)
            Case.objects.filter(pk=case.pk).update(number=case.number)
        if master is not None:
            master = Case.objects.select_for_update().get(pk=master.pk)  # its log gets the next event
            record_event(master, "absorb", user, master.status, at=now, data={"duplicate": case.number})
        cohandled = decision is not None and _dispatch_notices(user, case, decision, now)
    # What hangs off a new case is what was just written: say so, so that the answer
    # is built without asking the database again (as prefetch_related would).
    case._prefetched_objects_cache = {"photos": saved_photos, "ratings": [], "extensions": [], "merged_cases": []}
    if not cohandled:
        case._prefetched_objects_cache["whistles"] = []
    return case, True


def _channel_allowed(user, channel) -> bool:
    return permissions.allows(user, CHANNEL_ACTIONS[channel])


# --- dispatcher ---------------------------------------------------------------


@transaction.atomic
def classify(user, number, category_code, at=None):
    permissions.require(user, "case.classify")
    case = _locked(number)
    _authorize(user, case, "classify")
    errors = FieldErrors()
    category = _category_by_code(errors, category_code)
    if category is None and not errors:
        errors.add("category", _("请选择分类。"))
    errors.raise_if_any()
    old = case.category.code if case.category_id else None
    case.category = category
    case.save(update_fields=["category", "updated_at"])
    record_event(case, "classify", user, case.status, data={"from": old, "category": category.code}, at=at)
    return case


@transaction.atomic
def dispatch(user, number, unit_code=None, note="", at=None):
    permissions.require(user, "case.dispatch")
    case = _locked(number)
    return _dispatch_locked(user, case, unit_code=unit_code, note=note, at=at)


# What dispatching changes on the case row.
DISPATCH_FIELDS = [
    "unit",
    "routed_by",
    "duty_version",
    "dispatched_at",
    "response_due",
    "completion_due",
    "responded_at",
    "urgency",
    "status",
    "updated_at",
]


def _dispatch_locked(user, case, unit_code, note, at):
    _authorize(user, case, "dispatch")
    decision = _route_for_dispatch(case, unit_code)
    now = _now(at)
    before = case.status
    _apply_dispatch(case, decision, now)
    case.save(update_fields=DISPATCH_FIELDS)
    _dispatch_event(user, case, decision, before, note, now, bool(unit_code), _next_seq(case)).save(force_insert=True)
    _dispatch_notices(user, case, decision, now)
    return case


def _route_for_dispatch(case, unit_code=None) -> RouteDecision:
    """Where the case goes: the routing decision, or the dispatcher's ``unit_code``
    (checked against the negative list). Reads only; raises ``ValidationFailed``."""
    if case.category_id is None:
        raise ValidationFailed("category", _("派单前请先选择分类。"))
    decision = route_decision(case)
    if unit_code:
        unit = Unit.objects.filter(code=unit_code, active=True).first()
        if unit is None:
            raise ValidationFailed("unit", _("承办单位代码“%(code)s”不存在或已停用。") % {"code": unit_code})
        if case.street_id is not None and unit.street_id != case.street_id:
            raise ValidationFailed("unit", _("承办单位“%(name)s”不属于本工单的受理街道。") % {"name": unit.name})
        if decision.negative is not None and decision.unit is None and unit.kind != Unit.Kind.DISTRICT:
            raise ValidationFailed("unit", decision.reason)
        if unit == decision.unit:
            return decision
        if unit.kind == Unit.Kind.DISTRICT:
            reason = (
                _("上报区级部门：%(reason)s") % {"reason": decision.reason} if decision.negative else _("上报区级部门")
            )
            return RouteDecision(unit, reason, duty_version=decision.duty_version)
        return RouteDecision(unit, _("派单员指定"))
    if decision.unit is None:
        if decision.negative is not None:
            raise ValidationFailed("unit", decision.reason)
        raise ValidationFailed("unit", _("没有派单规则匹配此工单，请手动选择承办单位。"))
    return decision


def _apply_dispatch(case, decision, now):
    """Set the unit, the reason and both deadlines on the case (not saved)."""
    case.unit = decision.unit
    case.routed_by = str(decision.reason)[:200]
    case.duty_version = decision.duty_version
    case.dispatched_at = now
    case.response_due, case.completion_due = deadlines_for(case.category, now, decision.duty_version)
    case.responded_at = None
    case.urgency = Urgency.GREEN
    case.status = Status.DISPATCHED


def _dispatch_event(user, case, decision, before, note, at, manual, seq):
    unit = case.unit
    collaborators = [u for u in decision.collaborators if u != unit]
    return _event(
        case,
        seq,
        "dispatch",
        user,
        before,
        note=note,
        at=at,
        data={
            "unit": unit.code,
            "routed_by": case.routed_by,
            "rule": decision.rule.pk if decision.rule else None,
            "duty": decision.duty_version.item.code if decision.duty_version else None,
            "duty_version": decision.duty_version.number if decision.duty_version else None,
            "collaborators": [u.code for u in collaborators],
            "response_due": _iso(case.response_due),
            "completion_due": _iso(case.completion_due),
            "manual": manual,
        },
    )


def _dispatch_notices(user, case, decision, at):
    """The unit's notification, and the co-handling task (协办) with a notification for
    each collaborating unit the list names. Returns whether there was a co-handling task."""
    unit = case.unit
    _notify(
        unit=unit,
        case=case,
        kind="dispatch",
        message=_("新工单 %(number)s 已派至本单位，请在时限内响应。") % {"number": case.number},
    )
    collaborators = [u for u in decision.collaborators if u != unit]
    if collaborators:
        cohandle = Whistle.objects.create(
            case=case,
            kind=Whistle.Kind.COHANDLE,
            blown_by=user if user is not None and user.is_authenticated else None,
            blown_at=at,
            report_due=case.response_due,
            reason=_("权责清单协办：%(reason)s") % {"reason": case.routed_by},
        )
        for collaborator in collaborators:
            WhistleSummons.objects.create(whistle=cohandle, unit=collaborator)
            _notify(
                unit=collaborator,
                case=case,
                kind="cohandle",
                message=_("工单 %(number)s 需本单位协办（主办：%(unit)s），请报到并说明承担的工作。")
                % {"number": case.number, "unit": unit.name},
            )
    return bool(collaborators)


@transaction.atomic
def merge(user, number, master_number, note="", at=None):
    permissions.require(user, "case.merge")
    case = _locked(number)
    _authorize(user, case, "merge")
    if master_number == case.number:
        raise ValidationFailed("master", _("不能把工单并入它自己。"))
    try:
        master = Case.objects.select_for_update().get(number=master_number)
    except Case.DoesNotExist:
        raise ValidationFailed("master", _("主工单 %(number)s 不存在。") % {"number": master_number}) from None
    if not master.is_open:
        raise ValidationFailed("master", _("主工单 %(number)s 已结束，不能并入。") % {"number": master_number})
    before = case.status
    case.master = master
    case.status = Status.MERGED
    case.closed_at = _now(at)
    case.save()
    record_event(case, "merge", user, before, note=note, at=at, data={"master": master.number})
    record_event(master, "absorb", user, master.status, at=at, data={"duplicate": case.number})
    if case.reporter_id:
        _notify(
            user=case.reporter,
            case=case,
            kind="merge",
            message=_("您反映的问题已有人反映，工单 %(number)s 已并入 %(master)s 一并办理，可继续跟踪。")
            % {"number": case.number, "master": master.number},
        )
    return case


# --- unit -------------------------------------------------------------------


@transaction.atomic
def return_case(user, number, reason, at=None):
    permissions.require(user, "case.return")
    case = _locked(number)
    _authorize(user, case, "return")
    reason = _require_note(reason, "reason", _("退单必须填写理由。"))
    now = _now(at)
    window = dt.timedelta(hours=settings.JIEDAO["RETURN_WINDOW_HOURS"])
    if case.dispatched_at and now - case.dispatched_at > window:
        raise InvalidTransition(
            _("已超过退单时限（派单后%(hours)d小时内），不能退单。") % {"hours": settings.JIEDAO["RETURN_WINDOW_HOURS"]}
        )
    before = case.status
    unit = case.unit
    case.status = Status.RETURNED
    case.return_count += 1
    case.unit = None
    case.save()
    record_event(case, "return", user, before, note=reason, at=now, actor_unit=unit, data={"unit": unit.code})
    return case


@transaction.atomic
def respond(user, number, note="", at=None):
    permissions.require(user, "case.respond")
    case = _locked(number)
    _authorize(user, case, "respond")
    now = _now(at)
    before = case.status
    case.status = Status.IN_PROGRESS
    case.responded_at = now
    case.save()
    on_time = case.response_due is None or now <= case.response_due
    record_event(case, "respond", user, before, note=note, at=now, data={"on_time": on_time})
    return case


@transaction.atomic
def add_note(user, number, note, at=None):
    permissions.require(user, "case.note")
    case = _locked(number)
    _authorize(user, case, "note")
    note = _require_note(note)
    record_event(case, "note", user, case.status, note=note, at=at)
    return case


@transaction.atomic
def request_extension(user, number, extra_workdays, reason, at=None):
    permissions.require(user, "case.request_extension")
    case = _locked(number)
    _authorize(user, case, "request_extension")
    reason = _require_note(reason, "reason", _("申请延期必须填写理由。"))
    try:
        extra = int(extra_workdays)
    except (TypeError, ValueError):
        raise ValidationFailed("extra_workdays", _("延长天数必须是整数。")) from None
    if not 1 <= extra <= 30:
        raise ValidationFailed("extra_workdays", _("延长天数须在1到30个工作日之间。"))
    if case.extensions.filter(decision=Extension.Decision.PENDING).exists():
        raise InvalidTransition(_("已有一个延期申请在等待审批。"))
    now = _now(at)
    ext = Extension.objects.create(case=case, requested_by=user, requested_at=now, extra_workdays=extra, reason=reason)
    record_event(
        case,
        "request_extension",
        user,
        case.status,
        note=reason,
        at=now,
        data={"extension": ext.pk, "extra_workdays": extra},
    )
    return case


@transaction.atomic
def decide_extension(user, number, approve, note="", at=None):
    action = "approve_extension" if approve else "refuse_extension"
    permissions.require(user, f"case.{action}")
    case = _locked(number)
    _authorize(user, case, action)
    ext = case.extensions.filter(decision=Extension.Decision.PENDING).first()
    if ext is None:
        raise InvalidTransition(_("没有待审批的延期申请。"))
    if not approve:
        note = _require_note(note, "note", _("驳回延期必须填写理由。"))
    now = _now(at)
    ext.decision = Extension.Decision.APPROVED if approve else Extension.Decision.REFUSED
    ext.decided_by = user
    ext.decided_at = now
    ext.decision_note = note or ""
    ext.save()
    data = {"extension": ext.pk}
    if approve:
        old_due = case.completion_due
        base = old_due.astimezone(SHANGHAI).date() if old_due else now.astimezone(SHANGHAI).date()
        new_date = add_workdays(base, ext.extra_workdays)
        case.completion_due = dt.datetime.combine(new_date, dt.time(23, 59, 59), SHANGHAI).astimezone(dt.UTC)
        case.extension_count += 1
        case.urgency = Urgency.GREEN
        case.save()
        data.update({"completion_due_before": _iso(old_due), "completion_due": _iso(case.completion_due)})
    record_event(case, action, user, case.status, note=note, at=now, data=data)
    if case.unit_id:
        _notify(
            unit=case.unit,
            case=case,
            kind="extension",
            message=(_("工单 %(number)s 的延期申请已批准。") if approve else _("工单 %(number)s 的延期申请被驳回。"))
            % {"number": case.number},
        )
    return case


@transaction.atomic
def blow_whistle(user, number, unit_codes, report_hours, reason, at=None):
    permissions.require(user, "case.whistle")
    case = _locked(number)
    _authorize(user, case, "whistle")
    reason = _require_note(reason, "reason", _("吹哨必须说明事由。"))
    codes = [c for c in dict.fromkeys(unit_codes or []) if c]
    if len(codes) < 1:
        raise ValidationFailed("units", _("请至少选择一个被召集的单位。"))
    units = list(Unit.objects.filter(code__in=codes, active=True))
    missing = sorted(set(codes) - {u.code for u in units})
    if missing:
        raise ValidationFailed("units", _("单位代码不存在：%(codes)s") % {"codes": "、".join(missing)})
    try:
        hours = float(report_hours)
    except (TypeError, ValueError):
        raise ValidationFailed("report_hours", _("报到时限必须是小时数。")) from None
    if not 0 < hours <= 72:
        raise ValidationFailed("report_hours", _("报到时限须在0到72小时之间。"))
    now = _now(at)
    whistle = Whistle.objects.create(
        case=case, blown_by=user, blown_at=now, report_due=now + dt.timedelta(hours=hours), reason=reason
    )
    for unit in units:
        WhistleSummons.objects.create(whistle=whistle, unit=unit)
        _notify(
            unit=unit,
            case=case,
            kind="whistle",
            message=_("街道就工单 %(number)s 吹哨，请于 %(due)s 前报到。")
            % {"number": case.number, "due": timezone.localtime(whistle.report_due).strftime("%m-%d %H:%M")},
        )
    record_event(
        case,
        "whistle",
        user,
        case.status,
        note=reason,
        at=now,
        data={"whistle": whistle.pk, "units": [u.code for u in units], "report_due": _iso(whistle.report_due)},
    )
    return case


@transaction.atomic
def report_to_whistle(user, number, part, at=None):
    permissions.require(user, "case.report")
    case = _locked(number)
    _authorize(user, case, "report")
    part = _require_note(part, "part", _("报到时请说明本单位承担的工作。"))
    summons = (
        WhistleSummons.objects.select_for_update()
        .filter(whistle__case=case, unit_id=user.unit_id, reported_at__isnull=True)
        .order_by("whistle__blown_at")
        .first()
    )
    if summons is None:
        raise InvalidTransition(_("本单位没有待报到的吹哨召集。"))
    now = _now(at)
    summons.reported_at = now
    summons.reported_by = user
    summons.part = part
    summons.save()
    record_event(
        case,
        "report",
        user,
        case.status,
        note=part,
        at=now,
        data={"whistle": summons.whistle_id, "on_time": now <= summons.whistle.report_due},
    )
    return case


@transaction.atomic
def resolve(user, number, result, photos=(), at=None):
    permissions.require(user, "case.resolve")
    case = _locked(number)
    _authorize(user, case, "resolve")
    errors = FieldErrors()
    result = (result or "").strip()
    if not result:
        errors.add("result", _("请填写办理结果。"))
    photos = validation.check_photos(errors, "photos", photos)
    errors.raise_if_any()
    now = _now(at)
    before = case.status
    case.status = Status.VERIFYING if case.category.needs_verification else Status.RATING
    case.resolved_at = now
    case.urgency = Urgency.GREEN
    case.save()
    for upload in photos:
        CasePhoto.objects.create(case=case, kind=CasePhoto.Kind.RESULT, image=upload)
    on_time = case.completion_due is None or now <= case.completion_due
    record_event(case, "resolve", user, before, note=result, at=now, data={"on_time": on_time, "photos": len(photos)})
    from jiedao.intelligence.services import check_reply

    check_reply(case, result, at=now)  # 答复质量: flags shown on the case, overridable
    return case


@transaction.atomic
def verify(user, number, passed, note="", at=None):
    action = "verify_pass" if passed else "verify_fail"
    permissions.require(user, f"case.{action}")
    case = _locked(number)
    _authorize(user, case, action)
    if not passed:
        note = _require_note(note, "note", _("核查不通过时请写明原因。"))
    before = case.status
    case.status = Status.RATING if passed else Status.IN_PROGRESS
    if not passed:
        case.resolved_at = None
    case.save()
    record_event(case, action, user, before, note=note, at=at)
    if not passed and case.unit_id:
        _notify(
            unit=case.unit,
            case=case,
            kind="verify",
            message=_("工单 %(number)s 现场核查未通过，已退回继续办理。") % {"number": case.number},
        )
    return case


# --- rating and closing -----------------------------------------------------


@transaction.atomic
def rate(user, number, resolved, satisfaction, comment="", source=None, phone=None, at=None):
    """回访评价. A resident rates their own case (signed in, or with the case's phone);
    staff enter a callback. Unresolved or 不满意 reopens the case to the same unit."""
    permissions.require(user, "case.rate" if phone is None else "public.rate_case")
    case = _locked(number)
    proven = False
    if phone is not None:
        proven = (
            bool(case.reporter_phone_index)
            and blind_index(validation.normalise_phone(phone)) == case.reporter_phone_index
        )
        if not proven:
            raise NotAllowed(_("工单号与手机号不匹配。"))
    _authorize(user, case, "rate", proven_reporter=proven)
    if satisfaction not in Rating.Satisfaction.values:
        raise ValidationFailed("satisfaction", _("满意度须为：满意、基本满意、不满意之一。"))
    if not isinstance(resolved, bool):
        raise ValidationFailed("resolved", _("请选择问题是否已解决。"))
    if source is None:
        is_resident = proven or (user is not None and user.is_authenticated and user.pk == case.reporter_id)
        source = Rating.Source.RESIDENT if is_resident else Rating.Source.CALLBACK
    now = _now(at)
    round_number = case.ratings.count() + 1
    Rating.objects.create(
        case=case,
        unit=case.unit,
        round=round_number,
        resolved=resolved,
        satisfaction=satisfaction,
        source=source,
        comment=(comment or "").strip(),
        rated_at=now,
    )
    before = case.status
    reopen = (not resolved) or satisfaction == Rating.Satisfaction.UNSATISFIED
    data = {
        "resolved": resolved,
        "satisfaction": satisfaction,
        "source": source,
        "round": round_number,
        "reopen": reopen,
    }
    if reopen:
        case.status = Status.IN_PROGRESS
        case.rework_count += 1
        case.resolved_at = None
        case.response_due, case.completion_due = deadlines_for(case.category, now, case.duty_version)
        case.urgency = Urgency.GREEN
        data.update({"response_due": _iso(case.response_due), "completion_due": _iso(case.completion_due)})
        _notify(
            unit=case.unit,
            case=case,
            kind="rework",
            message=_("工单 %(number)s 回访不满意或未解决，已重办，请重新办理。") % {"number": case.number},
        )
    else:
        case.status = Status.CLOSED
        case.closed_at = now
    case.save()
    record_event(case, "rate", user if not proven else None, before, note=comment, at=now, data=data)
    return case


@transaction.atomic
def close(user, number, note, at=None):
    permissions.require(user, "case.close")
    case = _locked(number)
    _authorize(user, case, "close")
    note = _require_note(note, "note", _("未经评价直接结案时请写明原因（如多次回访未接通）。"))
    before = case.status
    case.status = Status.CLOSED
    case.closed_at = _now(at)
    case.save()
    record_event(case, "close", user, before, note=note, at=at)
    return case


@transaction.atomic
def supervise(user, number, note, at=None):
    permissions.require(user, "case.supervise")
    case = _locked(number)
    _authorize(user, case, "supervise")
    note = _require_note(note, "note", _("督办请写明要求。"))
    case.supervised = True
    case.save(update_fields=["supervised", "updated_at"])
    record_event(case, "supervise", user, case.status, note=note, at=at)
    if case.unit_id:
        _notify(
            unit=case.unit,
            case=case,
            kind="supervise",
            message=_("工单 %(number)s 已被督办：%(note)s") % {"number": case.number, "note": note},
        )
    return case


# --- deadlines sweep (worker) -----------------------------------------------


def urgency_at(case, now, reopened_at=None) -> str:
    """green / yellow (< 20 % of the time left) / red (overdue) for a case the unit still owes.

    ``reopened_at``: when the last reopening rating was given, if the caller knows it
    (otherwise it is read from the ratings)."""
    if case.status not in (Status.DISPATCHED, Status.IN_PROGRESS) or case.dispatched_at is None:
        return Urgency.GREEN
    due = case.completion_due
    if case.status == Status.DISPATCHED and case.response_due is not None and now > case.response_due:
        return Urgency.RED
    if due is None:
        return Urgency.GREEN
    if now > due:
        return Urgency.RED
    # The share of time left is of the current allowance: after a reopening (重办) the
    # clock restarted at the rating that reopened the case, not at the first dispatch.
    start = case.dispatched_at
    if case.rework_count:
        if reopened_at is None:
            reopened_at = (
                Rating.objects.filter(case_id=case.pk).order_by("-rated_at").values_list("rated_at", flat=True).first()
            )
        start = max(start, reopened_at) if reopened_at else start
    total = (due - start).total_seconds()
    left = (due - now).total_seconds()
    if total > 0 and left / total < settings.JIEDAO["YELLOW_SHARE"]:
        return Urgency.YELLOW
    return Urgency.GREEN


def sweep_deadlines(now=None) -> dict:
    """Mark open cases yellow or red, record the change and notify the unit. Returns counts."""
    now = _now(now)
    counts = {"checked": 0, "yellow": 0, "red": 0}
    candidates = Case.objects.filter(status__in=(Status.DISPATCHED, Status.IN_PROGRESS)).only(
        "id",
        "number",
        "status",
        "urgency",
        "dispatched_at",
        "response_due",
        "completion_due",
        "unit_id",
        "rework_count",
    )
    for candidate in candidates.iterator(chunk_size=500):
        counts["checked"] += 1
        level = urgency_at(candidate, now)
        if level == candidate.urgency:
            continue
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).select_related("unit").get(pk=candidate.pk)
            level = urgency_at(case, now)
            if level == case.urgency:
                continue
            before = case.urgency
            case.urgency = level
            case.save(update_fields=["urgency", "updated_at"])
            record_event(case, "sla", None, case.status, at=now, data={"from": before, "urgency": level})
            if level in (Urgency.YELLOW, Urgency.RED) and case.unit_id:
                counts[level] += 1
                message = (
                    _("工单 %(number)s 已超期，请尽快办理。")
                    if level == Urgency.RED
                    else _("工单 %(number)s 即将到期（剩余不足20%%时间）。")
                ) % {"number": case.number}
                _notify(unit=case.unit, case=case, kind=f"sla_{level}", message=message)
    return counts


# --- notifications ------------------------------------------------------------


def mark_notifications_read(user, ids):
    """Mark the user's (or their unit's) notifications read. Returns how many changed."""
    if user is None or not user.is_authenticated:
        raise NotAllowed()
    from django.db.models import Q

    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValidationFailed("ids", _("消息编号无效。")) from None
    mine = Notification.objects.filter(user=user)
    if user.unit_id:
        mine = Notification.objects.filter(Q(user=user) | Q(unit_id=user.unit_id))
    return mine.filter(pk__in=ids, read_at__isnull=True).update(read_at=timezone.now())


# --- anonymisation of closed cases (worker) ------------------------------------------

ANONYMISED_FIELDS = ("reporter_name", "reporter_phone", "address")


def anonymise_closed_cases(now=None, batch_size=200) -> dict:
    """Erase the reporter's contact data — name, phone (and its blind index), address —
    from cases closed or merged more than ``JIEDAO["ANONYMISE_AFTER_DAYS"]`` days ago
    (default 365), writing one ``anonymise`` event per case in the same transaction.

    The link to a resident's account stays (the account is the resident's own, not a
    copy); description, place, deadlines, ratings and so the measures do not change.
    Returns ``{"anonymised": n}``."""
    from django.db.models import Q

    now = _now(now)
    days = int(settings.JIEDAO.get("ANONYMISE_AFTER_DAYS", 365))
    cutoff = now - dt.timedelta(days=days)
    due = Q(status__in=(Status.CLOSED, Status.MERGED), closed_at__lt=cutoff, anonymised_at__isnull=True) & (
        ~Q(reporter_name="") | ~Q(reporter_phone="") | ~Q(reporter_phone_index="") | ~Q(address="")
    )
    anonymised = 0
    last = 0
    while True:
        ids = list(Case.objects.filter(due, pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last = ids[-1]
        with transaction.atomic():
            for case in Case.objects.select_for_update(of=("self",)).filter(due, pk__in=ids).select_related("unit"):
                erased = [name for name in ANONYMISED_FIELDS if getattr(case, name)]
                for name in ANONYMISED_FIELDS:
                    setattr(case, name, "")
                case.reporter_phone_index = ""
                case.anonymised_at = now
                case.save(update_fields=[*ANONYMISED_FIELDS, "reporter_phone_index", "anonymised_at"])
                record_event(case, "anonymise", None, case.status, at=now, data={"fields": erased, "after_days": days})
                anonymised += 1
    return {"anonymised": anonymised}
