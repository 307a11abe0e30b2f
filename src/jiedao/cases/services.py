"""Every write to a case. Each function takes the acting user and plain values and, in one
transaction:

1. checks that the user's role may take the action at all (``org.permissions``: 403 before
   the case is looked up);
2. locks the case (404 when there is none);
3. checks the action against the lifecycle (``states.CASE``: the state 409, who may on this
   case 403, the note 422 on the action's own field), then the action's other input (422);
4. changes the rows, moves the case with ``CASE.take`` (or, for an action that keeps the
   state, writes its event with ``CASE.record``) and returns the case.

Registering a new case is ``intake.submit`` (``submit_case`` here); dispatching shares its
steps with the intake (``dispatching``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import idempotency
from jiedao.common.crypto import blind_index
from jiedao.common.errors import FieldErrors, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.common.lifecycle import Context, Transition
from jiedao.messaging.services import notify
from jiedao.org import permissions
from jiedao.org.models import Unit, User
from jiedao.workcal.calendar import SHANGHAI, add_workdays

from . import dispatching, flags, hooks, intake, reminders, supervision, telling, validation
from .dispatching import DISPATCH_FIELDS, case_page
from .dispatching import iso as _iso
from .models import (
    Case,
    CaseEvent,
    CasePhoto,
    Extension,
    Outcome,
    Rating,
    Status,
    Supervision,
    Urgency,
    Whistle,
    WhistleSummons,
)
from .routing import deadlines_for, route, route_decision
from .rules import urgency_at
from .states import CASE, NOTES

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.core.files import File

__all__ = [
    "add_note",
    "anonymise_closed_cases",
    "blow_whistle",
    "callback_unreached",
    "case_page",
    "classify",
    "close",
    "decide_extension",
    "decide_supervision",
    "dispatch",
    "flag",
    "inform",
    "merge",
    "rate",
    "reply_to_supervision",
    "report_to_whistle",
    "request_extension",
    "resolve",
    "respond",
    "return_case",
    "route",
    "route_decision",
    "self_resolve",
    "settle",
    "submit_case",
    "supervise",
    "sweep_deadlines",
    "urgency_at",
    "verify",
]

# 受理: the intake's steps are in ``intake``; this is its public service under the old name.
submit_case = intake.submit


# --- checks --------------------------------------------------------------------------------


def _locked(number: str) -> Case:
    try:
        return Case.objects.select_for_update(of=("self",)).select_related("category", "unit").get(number=number)
    except Case.DoesNotExist:
        raise NotFound(_("工单 %(number)s 不存在。") % {"number": number}) from None


def _check(user, case: Case, action: str, *, note: str = "", proven: bool = False, errors=None) -> Transition:
    """The lifecycle's checks in its order (state 409, person 403, note 422). A missing note is
    reported on the action's own field with its own message (``states.NOTES``); with ``errors``
    it is added there, to be reported with the action's other fields."""
    try:
        return CASE.check(user, case, action, note, Context(proven=proven))
    except ValidationFailed as refused:
        if action not in NOTES or refused.errors[0]["field"] != CASE.note_field:
            raise
        field, message = NOTES[action]
        if errors is None:
            raise ValidationFailed(field, message) from None
        errors.add(field, message)
        return CASE.transitions[action]


def _take(user, case: Case, action: str, *, checked: Transition, at, changed=(), **event) -> None:
    """Move the case by the checked row and write its event; ``changed``: the other fields the
    service set on the case."""
    CASE.take(user, case, action, at=at, checked=checked, save_fields=(*changed, "updated_at"), **event)
    if case.status == Status.RATING and action in ("resolve", "verify_pass"):
        # The reply reached the resident's rating: they are told it, with the rating link.
        telling.result(case, at=at, reply=event.get("note") if action == "resolve" else None)


def _now(at=None) -> dt.datetime:
    return at or timezone.now()


# --- dispatcher ------------------------------------------------------------------------------


@transaction.atomic
def classify(user: User, *, number: str, category_code: str, at: dt.datetime | None = None) -> Case:
    permissions.require(user, "case.classify")
    case = _locked(number)
    _check(user, case, "classify")
    errors = FieldErrors()
    category = intake.category_by_code(errors, category_code)
    errors.raise_if_any()
    if category is None:
        raise ValidationFailed("category", _("请选择分类。"))
    old = case.category.code if case.category is not None else None
    case.category = category
    case.save(update_fields=["category", "updated_at"])
    CASE.record(case, "classify", user, at=at, data={"from": old, "category": category.code})
    return case


@transaction.atomic
def dispatch(
    user: User, *, number: str, unit_code: str | None = None, note: str = "", at: dt.datetime | None = None
) -> Case:
    """派单: to the unit the routing gives, or to the unit the dispatcher names (``unit_code``)."""
    permissions.require(user, "case.dispatch")
    case = _locked(number)
    checked = _check(user, case, "dispatch")
    decision = dispatching.route_for_dispatch(case, unit_code)
    note = (note or "").strip()
    returned_by = _returning_unit(case)
    refused = returned_by is not None and decision.unit == returned_by
    now = _now(at)
    dispatching.apply_dispatch(case, decision, now)
    data = dispatching.dispatch_data(case, decision, manual=bool(unit_code))
    if returned_by is not None:
        data["return_accepted"] = not refused
    _take(user, case, "dispatch", checked=checked, at=now, changed=DISPATCH_FIELDS, note=note, data=data)
    dispatching.send_notices(user, case, decision, now)
    if returned_by is not None:
        _tell_return_decided(case, returned_by, accepted=not refused, note=note)
    return case


def _returning_unit(case: Case) -> Unit | None:
    """The unit whose return (退单) a dispatch of this case decides: the latest returning unit
    while the case waits as returned, else none."""
    if case.status != Status.RETURNED:
        return None
    event = CaseEvent.objects.filter(case=case, action="return").select_related("actor_unit").order_by("-seq").first()
    return event.actor_unit if event is not None else None


def _tell_return_decided(case: Case, unit: Unit, *, accepted: bool, note: str) -> None:
    """The returning unit learns whether its return was accepted (the case sent elsewhere) or
    refused (the case sent back to it), with the dispatcher's reason (派单说明) when given."""
    if accepted:
        message = _("工单 %(number)s 的退单已接受，已改派至%(unit)s。") % {
            "number": case.number,
            "unit": case.unit.name if case.unit else "",
        }
    else:
        message = _("工单 %(number)s 的退单未被接受，已重新派回本单位，请按时办理。") % {"number": case.number}
    if note:
        message += _("理由：%(note)s") % {"note": note}
    notify(unit=unit, link=case_page(case), kind="return_decided", message=message)


@transaction.atomic
def merge(user: User, *, number: str, master_number: str, note: str = "", at: dt.datetime | None = None) -> Case:
    """并案: the case ends, merged into an open case reporting the same matter."""
    permissions.require(user, "case.merge")
    case = _locked(number)
    checked = _check(user, case, "merge")
    if master_number == case.number:
        raise ValidationFailed("master", _("不能把工单并入它自己。"))
    try:
        master = Case.objects.select_for_update().get(number=master_number)
    except Case.DoesNotExist:
        raise ValidationFailed("master", _("主工单 %(number)s 不存在。") % {"number": master_number}) from None
    if not master.is_open:
        raise ValidationFailed("master", _("主工单 %(number)s 已结束，不能并入。") % {"number": master_number})
    now = _now(at)
    case.master = master
    _take(user, case, "merge", checked=checked, at=now, changed=("master",), note=note, data={"master": master.number})
    CASE.record(master, "absorb", user, at=now, data={"duplicate": case.number})
    if case.reporter_id:
        notify(
            user=case.reporter,
            link=case_page(case),
            kind="merge",
            message=_("您反映的问题已有人反映，工单 %(number)s 已并入 %(master)s 一并办理，可继续跟踪。")
            % {"number": case.number, "master": master.number},
        )
    return case


# --- unit --------------------------------------------------------------------------------------


@transaction.atomic
def return_case(user: User, *, number: str, reason: str, at: dt.datetime | None = None) -> Case:
    """退单: within the window after dispatch, the unit gives the case back with a reason."""
    permissions.require(user, "case.return")
    case = _locked(number)
    reason = (reason or "").strip()
    checked = _check(user, case, "return", note=reason)
    now = _now(at)
    hours = cast(int, settings.JIEDAO["RETURN_WINDOW_HOURS"])
    if case.dispatched_at and now - case.dispatched_at > dt.timedelta(hours=hours):
        raise InvalidTransition(_("已超过退单时限（派单后%(hours)d小时内），不能退单。") % {"hours": hours})
    unit = case.unit
    case.return_count += 1
    case.unit = None
    _take(
        user,
        case,
        "return",
        checked=checked,
        at=now,
        changed=("return_count", "unit"),
        note=reason,
        data={"unit": unit.code if unit is not None else None},
        event={"actor_unit": unit},
    )
    return case


@transaction.atomic
def respond(user: User, *, number: str, note: str = "", at: dt.datetime | None = None) -> Case:
    permissions.require(user, "case.respond")
    case = _locked(number)
    checked = _check(user, case, "respond")
    now = _now(at)
    on_time = case.response_due is None or now <= case.response_due
    _take(user, case, "respond", checked=checked, at=now, note=note, data={"on_time": on_time})
    return case


@transaction.atomic
def add_note(user: User, *, number: str, note: str, at: dt.datetime | None = None) -> Case:
    permissions.require(user, "case.note")
    case = _locked(number)
    note = (note or "").strip()
    _check(user, case, "note", note=note)
    CASE.record(case, "note", user, note=note, at=at)
    return case


@transaction.atomic
def request_extension(
    user: User, *, number: str, extra_workdays: int | str, reason: str, at: dt.datetime | None = None
) -> Case:
    permissions.require(user, "case.request_extension")
    case = _locked(number)
    reason = (reason or "").strip()
    _check(user, case, "request_extension", note=reason)
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
    CASE.record(
        case, "request_extension", user, note=reason, at=now, data={"extension": ext.pk, "extra_workdays": extra}
    )
    return case


@transaction.atomic
def decide_extension(user: User, *, number: str, approve: bool, note: str = "", at: dt.datetime | None = None) -> Case:
    """批准延期 (the completion deadline moves by the workdays asked) or 驳回延期 (with a reason)."""
    action = "approve_extension" if approve else "refuse_extension"
    permissions.require(user, f"case.{action}")
    case = _locked(number)
    if not approve:
        note = (note or "").strip()
    _check(user, case, action, note=note)
    ext = case.extensions.filter(decision=Extension.Decision.PENDING).first()
    if ext is None:
        raise InvalidTransition(_("没有待审批的延期申请。"))
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
        case.save(update_fields=["completion_due", "extension_count", "urgency", "updated_at"])
        data.update({"completion_due_before": _iso(old_due), "completion_due": _iso(case.completion_due)})
    CASE.record(case, action, user, note=note, at=now, data=data)
    if case.unit_id:
        if approve:
            message = _("工单 %(number)s 的延期申请已批准，办结时限延至 %(due)s（北京时间）。") % {
                "number": case.number,
                "due": reminders.beijing(cast(dt.datetime, case.completion_due)),
            }
            if note:
                message += _("说明：%(note)s") % {"note": note}
        else:
            message = _("工单 %(number)s 的延期申请被驳回，理由：%(note)s") % {"number": case.number, "note": note}
        notify(unit=case.unit, link=case_page(case), kind="extension", message=message)
    return case


@transaction.atomic
def blow_whistle(
    user: User,
    *,
    number: str,
    unit_codes: list[str],
    report_hours: float | str,
    reason: str,
    at: dt.datetime | None = None,
) -> Case:
    """吹哨: units summoned to the case, each to report (报到) within ``report_hours``."""
    permissions.require(user, "case.whistle")
    case = _locked(number)
    reason = (reason or "").strip()
    _check(user, case, "whistle", note=reason)
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
        notify(
            unit=unit,
            link=case_page(case),
            kind="whistle",
            message=_("街道就工单 %(number)s 吹哨，请于 %(due)s 前报到。")
            % {"number": case.number, "due": timezone.localtime(whistle.report_due).strftime("%m-%d %H:%M")},
        )
    data = {"whistle": whistle.pk, "units": [u.code for u in units], "report_due": _iso(whistle.report_due)}
    CASE.record(case, "whistle", user, note=reason, at=now, data=data)
    return case


@transaction.atomic
def report_to_whistle(user: User, *, number: str, part: str, at: dt.datetime | None = None) -> Case:
    """报到: a summoned unit says what part of the work it takes on."""
    permissions.require(user, "case.report")
    case = _locked(number)
    part = (part or "").strip()
    _check(user, case, "report", note=part)
    summons = (
        WhistleSummons.objects.select_for_update()
        .filter(
            whistle__case=case,
            unit_id=cast(int, user.unit_id),  # checked above: the user's unit was summoned
            reported_at__isnull=True,
        )
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
    data = {"whistle": summons.whistle_id, "on_time": now <= summons.whistle.report_due}
    CASE.record(case, "report", user, note=part, at=now, data=data)
    return case


@transaction.atomic
def resolve(
    user: User, *, number: str, result: str, photos: Sequence[File] = (), at: dt.datetime | None = None
) -> Case:
    """办结反馈: the unit's result (and photos); the case goes to on-site verification when its
    category asks for it, else to the rating. The reply's quality is checked at once
    (``hooks.reply_checker``), and ``hooks.case_resolved`` is sent after the commit."""
    permissions.require(user, "case.resolve")
    case = _locked(number)
    errors = FieldErrors()
    result = (result or "").strip()
    checked = _check(user, case, "resolve", note=result, errors=errors)
    photos = validation.check_photos(errors, "photos", photos)
    errors.raise_if_any()
    now = _now(at)
    case.urgency = Urgency.GREEN
    on_site = case.category is not None and case.category.needs_verification
    outcome = Status.VERIFYING if on_site else Status.RATING
    on_time = case.completion_due is None or now <= case.completion_due
    data = {"on_time": on_time, "photos": len(photos)}
    _take(user, case, "resolve", checked=checked, at=now, changed=("urgency",), outcome=outcome, note=result, data=data)
    for upload in photos:
        CasePhoto.objects.create(case=case, kind=CasePhoto.Kind.RESULT, image=upload)
    hooks.reply_checker(case, result, at=now)  # 答复质量: flags shown on the case, overridable
    hooks.send_on_commit(hooks.case_resolved, Case, case=case)
    return case


MAX_REASON = 500


@transaction.atomic
def verify(
    user: User,
    *,
    number: str,
    passed: bool,
    note: str = "",
    reason: str = "",
    lat: float | str | None = None,
    lng: float | str | None = None,
    photos: Sequence[File] = (),
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> Case:
    """核查: on site, the result holds (to the rating) or not (back to the unit, with the reason).

    A check on site shows it: a photo (核查照片) and the phone's position within
    ``JIEDAO["VERIFY_DISTANCE_M"]`` metres of the case's. Without either — no photo, no position,
    too far, a case without a position, a dispatcher checking from the office — a written
    ``reason`` is required. The event records the position, the distance, the photos and the
    reason; the photos are kept with the case. A check sent again under the same
    ``idempotency_key`` (the phone's queue of checks made offline) answers the case unchanged."""
    action = "verify_pass" if passed else "verify_fail"
    permissions.require(user, f"case.{action}")
    case = _locked(number)
    done = idempotency.previous(user, "case-verify", idempotency_key)
    if done == str(case.pk):
        return case
    if done is not None:
        raise ValidationFailed("Idempotency-Key", _("这个 Idempotency-Key 已用于另一张工单的核查。"))
    errors = FieldErrors()
    note = (note or "").strip()
    checked = _check(user, case, action, note=note, errors=errors)
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        errors.add("reason", _("理由不能超过%(max)d个字。") % {"max": MAX_REASON})
    position_errors, photo_errors = FieldErrors(), FieldErrors()
    at_lat, at_lng = validation.check_location(position_errors, lat, lng)
    photos = validation.check_photos(photo_errors, "photos", photos)
    bad_position, bad_photos = bool(position_errors), bool(photo_errors)
    if bad_position:
        at_lat = at_lng = None
    errors.errors += position_errors.errors + photo_errors.errors
    limit = cast(int, settings.JIEDAO["VERIFY_DISTANCE_M"])
    distance = None
    if at_lat is not None and at_lng is not None and case.lat is not None and case.lng is not None:
        distance = validation.distance_m(case.lat, case.lng, at_lat, at_lng)
    # What the check lacks to prove it was made on site (a broken field is its own error).
    gaps = []
    if not photos and not bad_photos:
        gaps.append(_("没有核查照片"))
    if at_lat is None or at_lng is None:
        if not bad_position:
            gaps.append(_("没有手机定位"))
    elif case.lat is None or case.lng is None:
        gaps.append(_("工单没有位置，无法核对距离"))
    elif distance is not None and distance > limit:
        gaps.append(
            _("当前位置距工单位置约 %(distance)d 米，超过 %(limit)d 米") % {"distance": round(distance), "limit": limit}
        )
    if gaps and not reason:
        errors.add(
            "reason",
            _("%(gaps)s：不是在现场拍照定位核查的，请写明理由（如已电话联系居民核实）。") % {"gaps": "，".join(gaps)},
        )
    errors.raise_if_any()
    changed: tuple[str, ...] = ()
    if not passed:
        case.resolved_at = None
        changed = ("resolved_at",)
    data = validation.verification_data(
        photos=len(photos), lat=at_lat, lng=at_lng, distance=distance, on_site=not gaps, reason=reason
    )
    _take(user, case, action, checked=checked, at=_now(at), changed=changed, note=note, data=data)
    for upload in photos:
        CasePhoto.objects.create(case=case, kind=CasePhoto.Kind.VERIFY, image=upload)
    idempotency.remember(user, "case-verify", idempotency_key, case.pk)
    if not passed and case.unit_id:
        notify(
            unit=case.unit,
            link=case_page(case),
            kind="verify",
            message=_("工单 %(number)s 现场核查未通过，已退回继续办理。") % {"number": case.number},
        )
    return case


@transaction.atomic
def self_resolve(
    user: User, *, number: str, result: str, photos: Sequence[File] = (), at: dt.datetime | None = None
) -> Case:
    """已自行处置: a small matter waiting for dispatch in the grid worker's own grid, fixed by
    them on the spot — closed at once with the result and at least one photo, and counted as
    settled at grid level (小事不出网格, ``grid_measures``)."""
    permissions.require(user, "case.self_resolve")
    case = _locked(number)
    errors = FieldErrors()
    result = (result or "").strip()
    checked = _check(user, case, "self_resolve", note=result, errors=errors)
    if len(result) > intake.MAX_ANSWER:
        errors.add("result", _("处置结果不能超过 %(max)d 个字。") % {"max": intake.MAX_ANSWER})
    photos = validation.check_photos(errors, "photos", photos)
    if not photos and not any(e["field"] == "photos" for e in errors.errors):
        errors.add("photos", intake.SELF_RESOLVED_PHOTO_MESSAGE)
    errors.raise_if_any()
    case.outcome = Outcome.SELF_RESOLVED
    _take(
        user,
        case,
        "self_resolve",
        checked=checked,
        at=_now(at),
        changed=("outcome",),
        note=result,
        data={"photos": len(photos)},
    )
    for upload in photos:
        CasePhoto.objects.create(case=case, kind=CasePhoto.Kind.RESULT, image=upload)
    return case


# --- rating and closing ---------------------------------------------------------------------------


def _proven_reporter(case: Case, phone: str | None) -> bool:
    """Whether ``phone`` is the case's reporter's (refused at once when it is not)."""
    if phone is None:
        return False
    if case.reporter_phone_index and blind_index(validation.normalise_phone(phone)) == case.reporter_phone_index:
        return True
    raise NotAllowed(_("工单号与手机号不匹配。"))


@transaction.atomic
def rate(
    user: User | AnonymousUser | None,
    *,
    number: str,
    resolved: bool,
    satisfaction: str,
    comment: str = "",
    source: str | None = None,
    phone: str | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """回访评价. A resident rates their own case (signed in, or with the case's phone);
    staff enter a callback. Unresolved or 不满意 reopens the case to the same unit."""
    permissions.require(user, "case.rate" if phone is None else "public.rate_case")
    case = _locked(number)
    proven = _proven_reporter(case, phone)
    checked = _check(user, case, "rate", proven=proven)
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
        unit=cast(Unit, case.unit),  # a case waiting for its rating is held by a unit
        round=round_number,
        resolved=resolved,
        satisfaction=satisfaction,
        source=source,
        comment=(comment or "").strip(),
        rated_at=now,
    )
    reopen = (not resolved) or satisfaction == Rating.Satisfaction.UNSATISFIED
    data = {
        "resolved": resolved,
        "satisfaction": satisfaction,
        "source": source,
        "round": round_number,
        "reopen": reopen,
    }
    if reopen:
        case.rework_count += 1
        case.resolved_at = None
        case.response_due, case.completion_due = deadlines_for(case.category, now, case.duty_version)
        case.urgency = Urgency.GREEN
        data.update({"response_due": _iso(case.response_due), "completion_due": _iso(case.completion_due)})
        changed: tuple[str, ...] = ("rework_count", "resolved_at", "response_due", "completion_due", "urgency")
        outcome = Status.IN_PROGRESS
    else:
        case.closed_at = now
        changed = ("closed_at",)
        outcome = Status.CLOSED
    # A reporter who proved it with the phone is not a signed-in person of the log.
    rater = None if proven else user
    _take(rater, case, "rate", checked=checked, at=now, changed=changed, outcome=outcome, note=comment, data=data)
    if reopen:
        notify(
            unit=case.unit,
            link=case_page(case),
            kind="rework",
            message=_("工单 %(number)s 回访不满意或未解决，已重办，请重新办理。") % {"number": case.number},
        )
    return case


@transaction.atomic
def close(user: User, *, number: str, note: str, at: dt.datetime | None = None) -> Case:
    """结案 without a rating (e.g. the reporter could not be reached), with the reason."""
    permissions.require(user, "case.close")
    case = _locked(number)
    note = (note or "").strip()
    checked = _check(user, case, "close", note=note)
    _take(user, case, "close", checked=checked, at=_now(at), note=note)
    return case


@transaction.atomic
def callback_unreached(user: User, *, number: str, note: str = "", at: dt.datetime | None = None) -> Case:
    """回访未接通: the callback did not reach the resident; the attempt is counted and the case
    comes back to the callback queue after ``CALLBACK_RETRY_HOURS``."""
    permissions.require(user, "case.unreached")
    case = _locked(number)
    checked = _check(user, case, "unreached")
    attempt = CaseEvent.objects.filter(case=case, action="unreached", seq__gt=_last_resolve_seq(case)).count() + 1
    _take(user, case, "unreached", checked=checked, at=_now(at), note=(note or "").strip(), data={"attempt": attempt})
    return case


@transaction.atomic
def inform(user: User, *, number: str, note: str, at: dt.datetime | None = None) -> Case:
    """告知诉求人: the operator or dispatcher told the reporter the result before the callback
    (回访); the note says how and what. The case stays waiting for its rating."""
    permissions.require(user, "case.inform")
    case = _locked(number)
    note = (note or "").strip()
    checked = _check(user, case, "inform", note=note)
    _take(user, case, "inform", checked=checked, at=_now(at), note=note)
    return case


@transaction.atomic
def flag(user: User, *, number: str, kind: str, note: str, at: dt.datetime | None = None) -> Case:
    """标记舆情/群体事件: the dispatcher or a leader flags the case as 舆情 (``opinion``) or
    群体事件 (``mass``), or takes the flag off (``kind`` blank), saying why. The flag turns the
    evaluation's warning red (``flags.flagged_cases``)."""
    permissions.require(user, "case.flag")
    case = _locked(number)
    note = (note or "").strip()
    kind = (kind or "").strip() if isinstance(kind, str) else ""
    errors = FieldErrors()
    checked = _check(user, case, "flag", note=note, errors=errors)
    flags.check_flag(errors, current=case.sensitive, kind=kind, note=note, noun=_("本工单"))
    errors.raise_if_any()
    before = case.sensitive
    case.sensitive = kind
    data = {"from": before, "to": kind}
    _take(user, case, "flag", checked=checked, at=_now(at), changed=("sensitive",), note=note, data=data)
    return case


def _last_resolve_seq(case: Case) -> int:
    """The log position of the unit's latest result: callbacks count from there."""
    seq = CaseEvent.objects.filter(case=case, action="resolve").order_by("-seq").values_list("seq", flat=True).first()
    return seq or 0


@transaction.atomic
def settle(
    user: User,
    *,
    number: str,
    outcome: str,
    answer: str = "",
    void_reason: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """三事分流 for a case waiting to be dispatched: a consultation answered (``answered``), a
    private matter advised (``advised``) or an invalid call voided (``voided``, with one of
    ``VOID_REASONS``); closed at once, as at the intake (``intake.register``). The lifecycle's
    order of checks: the outcome named, the role (403), the state (409), the person, the answer."""
    outcome = (outcome or "").strip()
    if outcome not in intake.OUTCOME_ACTIONS:
        raise ValidationFailed("outcome", _("请选择处理方式：直接答复、私事告知或无效来电。"))
    action = intake.OUTCOME_ACTIONS[outcome]
    permissions.require(user, f"case.{action}")
    case = _locked(number)
    checked = _check(user, case, action, note=(answer or "").strip())
    errors = FieldErrors()
    outcome, answer, void_reason = intake.check_outcome(
        errors, user, outcome=outcome, answer=answer, void_reason=void_reason, dispatch=False, attach_to=""
    )
    errors.raise_if_any()
    case.outcome = outcome
    data = intake.outcome_data(void_reason)
    _take(user, case, action, checked=checked, at=_now(at), changed=("outcome",), note=answer, data=data)
    return case


# The longest 督办 requirement and reply, in characters.
MAX_SUPERVISION_TEXT = 1000


def _supervision_due(errors: FieldErrors, value: dt.datetime | str | None, now: dt.datetime) -> dt.datetime | None:
    """The 督办's reply deadline: required, a date and time (Beijing time when no offset is
    given), in the future and at most ``JIEDAO["SUPERVISE_MAX_DAYS"]`` days ahead."""
    days = int(cast(int, settings.JIEDAO.get("SUPERVISE_MAX_DAYS", 30)))
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add("due", _("请填写答复时限（日期和时间）。"))
        return None
    if isinstance(value, dt.datetime):
        due = value
    else:
        try:
            due = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            errors.add("due", _("答复时限格式应为日期和时间，例如 2026-11-18 17:00。"))
            return None
    if due.tzinfo is None:
        due = due.replace(tzinfo=SHANGHAI)
    if due <= now:
        errors.add("due", _("答复时限必须晚于现在。"))
        return None
    if due > now + dt.timedelta(days=days):
        errors.add("due", _("答复时限最多为 %(days)d 天之后。") % {"days": days})
        return None
    return due.astimezone(dt.UTC)


@transaction.atomic
def supervise(
    user: User, *, number: str, note: str, due: dt.datetime | str | None, at: dt.datetime | None = None
) -> Case:
    """督办: what the unit holding the case must reply (``note``, the requirement) and by when
    (``due``). The case is marked supervised; the unit and its head (负责人) are told both. One
    督办 waits for its reply at a time."""
    permissions.require(user, "case.supervise")
    case = _locked(number)
    note = (note or "").strip()
    now = _now(at)
    errors = FieldErrors()
    _check(user, case, "supervise", note=note, errors=errors)
    if len(note) > MAX_SUPERVISION_TEXT:
        errors.add("note", _("督办要求不能超过 %(max)d 个字。") % {"max": MAX_SUPERVISION_TEXT})
    deadline = _supervision_due(errors, due, now)
    errors.raise_if_any()
    deadline = cast(dt.datetime, deadline)
    waiting = case.supervisions.filter(replied_at__isnull=True).order_by("issued_at").first()
    if waiting is not None:
        raise InvalidTransition(
            _("本工单已有一项督办在等待答复（答复时限 %(due)s），请等承办单位答复后再督办。")
            % {"due": reminders.beijing(waiting.due)}
        )
    reminders.issue_supervision(case, by=user, requirement=note, due=deadline, now=now)
    return case


@transaction.atomic
def reply_to_supervision(user: User, *, number: str, reply: str, at: dt.datetime | None = None) -> Case:
    """答复督办: the unit holding the case answers the 督办 waiting for its reply; the one who
    issued it is told."""
    permissions.require(user, "case.supervise_reply")
    case = _locked(number)
    reply = (reply or "").strip()
    errors = FieldErrors()
    _check(user, case, "supervise_reply", note=reply, errors=errors)
    if len(reply) > MAX_SUPERVISION_TEXT:
        errors.add("reply", _("答复内容不能超过 %(max)d 个字。") % {"max": MAX_SUPERVISION_TEXT})
    errors.raise_if_any()
    supervision = (
        Supervision.objects.select_for_update(of=("self",))
        .filter(case=case, replied_at__isnull=True)
        .select_related("issued_by")
        .order_by("issued_at")
        .first()
    )
    if supervision is None:
        raise InvalidTransition(_("本工单没有等待答复的督办。"))
    now = _now(at)
    supervision.replied_at = now
    supervision.replied_by = user
    supervision.reply = reply
    supervision.save(update_fields=["replied_at", "replied_by", "reply"])
    on_time = now <= supervision.due
    data = {"supervision": supervision.pk, "due": _iso(supervision.due), "on_time": on_time}
    CASE.record(case, "supervise_reply", user, note=reply, at=now, data=data)
    issuer = supervision.issued_by
    if issuer is not None and issuer.is_active:
        notify(
            user=issuer,
            link=case_page(case),
            kind="supervise_reply",
            at=now,
            message=_("工单 %(number)s 的督办已答复（%(unit)s）：%(reply)s")
            % {"number": case.number, "unit": case.unit.name if case.unit else "", "reply": reply},
        )
    return case


@transaction.atomic
def decide_supervision(
    user: User,
    *,
    number: str,
    accept: bool,
    reason: str = "",
    due: dt.datetime | str | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """认可答复 (``accept``) or 退回重答 the unit's reply to a 督办 — a leader, or the dispatcher
    who issued it. Accepting closes the 督办 (the ``supervise_accept`` event; ``reason`` an
    optional remark). Returning needs the reason and a new reply deadline: the returned reply
    is kept in the ``supervise_return`` event's data, the 督办 waits for a reply again, and the
    unit and its head are told why and by when."""
    action = "supervise_accept" if accept else "supervise_return"
    permissions.require(user, f"case.{action}")
    case = _locked(number)
    reason = (reason or "").strip()
    now = _now(at)
    errors = FieldErrors()
    _check(user, case, action, note=reason, errors=errors)
    if len(reason) > MAX_SUPERVISION_TEXT:
        errors.add("reason", _("理由不能超过 %(max)d 个字。") % {"max": MAX_SUPERVISION_TEXT})
    deadline = None if accept else _supervision_due(errors, due, now)
    item = supervision.awaiting_decision(case.pk).select_for_update(of=("self",)).select_related("replied_by").first()
    if item is None:
        raise InvalidTransition(_("本工单没有等待认可的督办答复。"))
    if not accept and Supervision.objects.filter(case=case, replied_at__isnull=True).exists():
        raise InvalidTransition(_("本工单已有一项督办在等待答复，请等承办单位答复后再退回。"))
    if not user.has_role("leader") and item.issued_by_id != user.pk:
        raise NotAllowed(_("只有街道领导或发出该督办的人可以认可或退回答复。"))
    errors.raise_if_any()
    data = {
        "supervision": item.pk,
        "due": _iso(item.due),
        "reply": item.reply,
        "replied_at": _iso(cast(dt.datetime, item.replied_at)),
        "replied_by": item.replied_by_id,
        "on_time": cast(dt.datetime, item.replied_at) <= item.due,
    }
    if accept:
        CASE.record(case, action, user, note=reason, at=now, data=data)
        return case
    deadline = cast(dt.datetime, deadline)
    item.reply, item.replied_at, item.replied_by, item.due, item.escalated_at = "", None, None, deadline, None
    item.save(update_fields=["reply", "replied_at", "replied_by", "due", "escalated_at"])
    CASE.record(case, action, user, note=reason, at=now, data={**data, "new_due": _iso(deadline)})
    unit = item.unit or case.unit
    if unit is not None:
        head = unit.head
        notify(
            unit=unit,
            users=[head] if head is not None and head.is_active else [],
            link=case_page(case),
            kind="supervise",
            at=now,
            message=_("工单 %(number)s 的督办答复被退回，请于 %(due)s（北京时间）前重新答复。退回理由：%(reason)s")
            % {"number": case.number, "due": reminders.beijing(deadline), "reason": reason},
        )
    return case


# --- deadlines sweep (worker) -----------------------------------------------


def sweep_deadlines(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark open cases yellow or red, record the change and notify the unit; then send the
    reminders that are due (``reminders.send_reminders``). Returns counts."""
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
        level = urgency_at(candidate, now=now)
        if level == candidate.urgency:
            continue
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).select_related("unit").get(pk=candidate.pk)
            level = urgency_at(case, now=now)
            if level == case.urgency:
                continue
            before = case.urgency
            case.urgency = level
            case.save(update_fields=["urgency", "updated_at"])
            CASE.record(case, "sla", None, at=now, data={"from": before, "urgency": level})
            if level in (Urgency.YELLOW, Urgency.RED) and case.unit_id:
                counts[level] += 1
                # Turning red is told by the overdue reminder below (the unit and the dispatchers,
                # with the deadline passed), never twice.
                if level == Urgency.YELLOW:
                    message = _("工单 %(number)s 即将到期（剩余不足20%%时间）。") % {"number": case.number}
                    notify(unit=case.unit, link=case_page(case), kind=f"sla_{level}", message=message)
    counts.update(reminders.send_reminders(now=now))
    return counts


# --- anonymisation of closed cases (worker) ------------------------------------------

ANONYMISED_FIELDS = ("reporter_name", "reporter_phone", "address")


def anonymise_closed_cases(now: dt.datetime | None = None, *, batch_size: int = 200) -> dict[str, int]:
    """Erase the reporter's contact data — name, phone (and its blind index), address —
    from cases closed or merged more than ``JIEDAO["ANONYMISE_AFTER_DAYS"]`` days ago
    (default 365), writing one ``anonymise`` event per case in the same transaction.

    The link to a resident's account stays (the account is the resident's own, not a
    copy); description, place, deadlines, ratings and so the measures do not change.
    Returns ``{"anonymised": n}``."""
    now = _now(now)
    days = int(cast(int, settings.JIEDAO.get("ANONYMISE_AFTER_DAYS", 365)))
    cutoff = now - dt.timedelta(days=days)
    due = Q(
        status__in=(Status.CLOSED, Status.MERGED, Status.VOIDED), closed_at__lt=cutoff, anonymised_at__isnull=True
    ) & (~Q(reporter_name="") | ~Q(reporter_phone="") | ~Q(reporter_phone_index="") | ~Q(address=""))
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
                CASE.record(case, "anonymise", None, at=now, data={"fields": erased, "after_days": days})
                anonymised += 1
    return {"anonymised": anonymised}
