"""Every write of 应急管理. Each function takes the acting user (or none, for devices and
the worker) and plain values, checks the permission table before it looks anything up, then
the rules, and changes rows and writes the event in one transaction. Emergencies, alerts and
drills change status only through their lifecycles in ``states`` (``take``); every entry of an
emergency's timeline is written by ``states.EMERGENCIES`` (``take`` or ``record``)."""

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Collection
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from jiedao.cases import alerts as case_alerts
from jiedao.cases import services as case_services
from jiedao.cases.flags import check_flag
from jiedao.cases.models import Case
from jiedao.cases.selectors import visible_cases
from jiedao.common.errors import FieldErrors, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.common.masking import mask_personal_text
from jiedao.geo.locate import grid_id_at
from jiedao.messaging.services import notify
from jiedao.org import permissions
from jiedao.org.models import Grid, Unit, User
from jiedao.org.roles import LEADER
from jiedao.org.selectors import street_records
from jiedao.registry.models import Person
from jiedao.registry.selectors import CARED_STATUSES

from . import rules, selectors, states
from .models import (
    OPEN_STATUSES,
    Agreement,
    Alert,
    CallOff,
    CareCheck,
    Depot,
    Device,
    DeviceKind,
    Drill,
    DutyShift,
    Emergency,
    EmergencyCounter,
    EmergencyEvent,
    Kind,
    Level,
    Movement,
    Reading,
    Rule,
    Source,
    Status,
    Stock,
    Training,
    WarningLevel,
)
from .states import ALERTS, DRILLS, EMERGENCIES

COMMAND_ROLES = states.COMMAND
# For the pages' buttons; the rows themselves are in the permission table.
ALERT_ROLES = tuple(sorted(permissions.roles_of("emergency.alert")))
SUPPLY_ROLES = tuple(sorted(permissions.roles_of("emergency.stock")))
MAX_BATCH = 5000
FUTURE_SLACK = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=7)
# Plausible ranges of each metric; a value outside is a malformed reading, not an alarm.
METRIC_RANGES = {
    "ph": (0.0, 14.0),
    "turbidity": (0.0, 4000.0),
    "level": (-50.0, 50.0),
    "kwh": (0.0, 1000.0),
    "smoke": (0.0, 100.0),
    "tilt": (0.0, 180.0),
}
SURGE_FACTOR = 3.0  # a jump of 200 % over the daily mean of the week before
SURGE_MIN_CASES = 10


def _now(at=None):
    return at or timezone.now()


def _require(user, action, message=None):
    """The permission table's row for ``action`` (org/permissions.py), with this app's message."""
    permissions.require(user, action, message)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- emergencies ----------------------------------------------------------------------------------


def _next_number(at):
    year = timezone.localtime(at).year
    counter, _created = EmergencyCounter.objects.select_for_update().get_or_create(year=year)
    EmergencyCounter.objects.filter(pk=year).update(last=F("last") + 1)
    counter.refresh_from_db()
    return f"YJ{year}{counter.last:04d}"


@transaction.atomic
def report_emergency(
    user: User | None,
    *,
    title: str,
    kind: str,
    level: str = Level.IV,
    description: str = "",
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    grid_code: str = "",
    lead_unit_code: str = "",
    arrival_target_minutes: int | None = None,
    source: str = Source.DIRECT,
    case: Case | None = None,
    at: dt.datetime | None = None,
    _system: bool = False,
) -> Emergency:
    """Open an emergency (监测预警). Locates its grid, lists the special-care residents of
    the grid to check on, and raises a red warning for a level I or II event."""
    if not _system:
        _require(user, "emergency.report", _("只有指挥中心、派单员和话务员可以报告突发事件。"))
    errors = FieldErrors()
    title = (title or "").strip()
    if not title:
        errors.add("title", _("请填写事件标题。"))
    elif len(title) > 100:
        errors.add("title", _("标题不能超过100个字。"))
    if kind not in Kind.values:
        errors.add("kind", _("事件类型“%(value)s”无效。") % {"value": kind})
    level = str(level)
    if level not in Level.values:
        errors.add("level", _("事件等级应为 1 到 4（Ⅰ–Ⅳ级）。"))
    if (lat is None) != (lng is None) or (
        lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)
    ):
        errors.add("lat", _("位置无效：请同时提供有效的纬度和经度。"))
    grid = None
    if grid_code:
        grid = Grid.objects.select_related("community").filter(code=grid_code).first()
        if grid is None:
            errors.add("grid", _("网格编码“%(code)s”不存在。") % {"code": grid_code})
    lead_unit = None
    if lead_unit_code:
        lead_unit = Unit.objects.filter(code=lead_unit_code, active=True).first()
        if lead_unit is None:
            errors.add("lead_unit", _("单位代码“%(code)s”不存在。") % {"code": lead_unit_code})
    errors.raise_if_any()
    if grid is None and lat is not None and lng is not None:
        grid_id = grid_id_at(lat, lng)
        grid = Grid.objects.select_related("community").filter(pk=grid_id).first() if grid_id else None
    now = _now(at)
    emergency = Emergency.objects.create(
        number=_next_number(now),
        title=title,
        kind=kind,
        level=level,
        source=source,
        description=(description or "").strip(),
        address=(address or "").strip()[:200],
        lat=lat,
        lng=lng,
        grid=grid,
        community=grid.community if grid else None,
        case=case,
        lead_unit=lead_unit,
        arrival_target_minutes=arrival_target_minutes or 15,
        reported_at=now,
        reported_by=user if user is not None and user.is_authenticated else None,
    )
    told = _tell_on_duty(emergency, now=now)
    EMERGENCIES.record(
        emergency,
        "report",
        user,
        before="",
        note=description,
        at=now,
        data={"level": level, "kind": kind, "source": source, "told": told},
    )
    _list_care_checks(emergency)
    if level in (Level.I, Level.II):
        raise_alert(
            f"emergency:{emergency.pk}",
            level=WarningLevel.RED,
            message=_("%(level)s突发事件：%(title)s") % {"level": emergency.get_level_display(), "title": title},
            source=Alert.Source.EMERGENCY,
            emergency=emergency,
            at=now,
        )
    if lead_unit is not None:
        notify(
            kind="emergency",
            unit=lead_unit,
            message=_("突发事件 %(number)s：%(title)s，请立即响应。") % {"number": emergency.number, "title": title},
        )
    return emergency


def _list_care_checks(emergency):
    """The special-care residents (living or away, with an active tag) of the event's grid."""
    if emergency.grid_id is None:
        return 0
    persons = (
        Person.objects.filter(
            status__in=CARED_STATUSES, household__house__building__grid=emergency.grid_id, person_tags__tag__active=True
        )
        .distinct()
        .values_list("id", flat=True)
    )
    checks = [CareCheck(emergency=emergency, person_id=pid, grid_id=emergency.grid_id) for pid in persons]
    CareCheck.objects.bulk_create(checks, ignore_conflicts=True)
    return len(checks)


def _locked(emergency_or_number):
    number = emergency_or_number.number if isinstance(emergency_or_number, Emergency) else emergency_or_number
    emergency = Emergency.objects.select_for_update().filter(number=number).first()
    if emergency is None:
        raise NotFound(_("突发事件 %(number)s 不存在。") % {"number": number})
    return emergency


@transaction.atomic
def transition(
    user: User,
    *,
    number: str,
    action: str,
    note: str = "",
    unit_codes: Collection[str] = (),
    at: dt.datetime | None = None,
) -> Emergency:
    """Move an emergency along its timeline (``states.EMERGENCIES``), in the engine's order: an
    unknown action (422 on ``action``) and the role (403) before the emergency is looked up;
    then its state (409) and the note (422); then the units and the time (422)."""
    EMERGENCIES.get(action)
    _require(user, f"emergency.step.{action}")
    emergency = _locked(number)
    note = (note or "").strip()
    checked = EMERGENCIES.check(user, emergency, action, note)
    units = []
    if unit_codes:
        units = list(Unit.objects.filter(code__in=unit_codes, active=True))
        missing = set(unit_codes) - {u.code for u in units}
        if missing:
            raise ValidationFailed("units", _("单位代码“%(code)s”不存在。") % {"code": "、".join(sorted(missing))})
    now = _now(at)
    if now < emergency.reported_at:
        raise ValidationFailed("at", _("时间不能早于事件报告时间。"))
    data = {"units": [u.code for u in units]} if units else None
    EMERGENCIES.take(user, emergency, action, note=note, at=now, checked=checked, data=data)
    if units:
        emergency.units.add(*units)
        for unit in units:
            notify(
                kind="emergency",
                unit=unit,
                message=_("请参与处置突发事件 %(number)s：%(title)s。")
                % {"number": emergency.number, "title": emergency.title},
            )
    return emergency


@transaction.atomic
def add_note(user: User, *, number: str, note: str, at: dt.datetime | None = None) -> EmergencyEvent:
    _require(user, "emergency.note")
    emergency = _locked(number)
    if emergency.status not in (Status.REPORTED, Status.DISPATCHED, Status.ARRIVED, Status.ENGAGED, Status.RECOVERED):
        raise InvalidTransition(_("事件已结束，不能再记录进展。"))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("note", _("请填写进展情况。"))
    return EMERGENCIES.record(emergency, "note", user, note=note, at=at)


@transaction.atomic
def flag(user: User, *, number: str, kind: str, note: str, at: dt.datetime | None = None) -> Emergency:
    """标记舆情/群体事件: the dispatcher or a leader flags an emergency as 舆情 (``opinion``) or
    群体事件 (``mass``), or takes the flag off (``kind`` blank), saying why; an event of the
    timeline with the flag before and after. While the emergency is open the flag turns the
    evaluation's warning red (``evaluation.red``)."""
    _require(user, "emergency.flag", _("只有调度员或街道领导可以标记舆情或群体事件。"))
    emergency = _locked(number)
    note = (note or "").strip()
    kind = (kind or "").strip() if isinstance(kind, str) else ""
    errors = FieldErrors()
    check_flag(errors, current=emergency.sensitive, kind=kind, note=note, noun=_("本事件"))
    if kind and kind != emergency.sensitive and emergency.status not in OPEN_STATUSES:
        errors.add("kind", _("事件已结束，不能再标记舆情或群体事件。"))
    if not note:
        errors.add("note", _("请填写标记理由。"))
    errors.raise_if_any()
    before = emergency.sensitive
    emergency.sensitive = kind
    emergency.save(update_fields=["sensitive"])
    EMERGENCIES.record(emergency, "flag", user, note=note, at=at, data={"from": before, "to": kind})
    return emergency


@transaction.atomic
def record_check(user: User, *, check_id: int, result: str, note: str = "", at: dt.datetime | None = None) -> CareCheck:
    """A grid worker ticks off a special-care resident: safe, needs help, unreachable."""
    _require(user, "emergency.check", _("只有本网格的网格员或指挥中心可以核查。"))
    check = (
        CareCheck.objects.select_for_update(of=("self",))
        .select_related("emergency", "person")
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise NotFound()
    if not rules.may_check(user, check):
        raise NotAllowed(_("只有本网格的网格员或指挥中心可以核查。"))
    if result not in CareCheck.Result.values or result == CareCheck.Result.PENDING:
        raise ValidationFailed("result", _("请选择核查结果。"))
    if check.emergency.status in (Status.CLOSED, Status.CANCELLED):
        raise InvalidTransition(_("事件已结束，不能再核查。"))
    now = _now(at)
    check.result, check.note, check.checked_by, check.checked_at = result, (note or "").strip()[:200], user, now
    check.save(update_fields=["result", "note", "checked_by", "checked_at"])
    EMERGENCIES.record(
        check.emergency,
        "check",
        user,
        at=now,
        note=f"{check.person.name}：{check.get_result_display()}",
        data={"check": check.pk, "result": result},
    )
    return check


@transaction.atomic
def emergency_from_case(
    user: User, *, case_number: str, kind: str, level: str = Level.IV, at: dt.datetime | None = None
) -> Emergency:
    """An emergency raised from a case the user can see. The case's text is copied with the
    phones and identity numbers in it masked: the emergency is read by more people than the
    case's reporter data is shown to, and the case keeps the original."""
    _require(user, "emergency.from_case")
    case = visible_cases(user).filter(number=case_number).first()
    if case is None:
        raise NotFound(_("工单 %(number)s 不存在或您无权查看。") % {"number": case_number})
    text = mask_personal_text(case.description)
    return report_emergency(
        user,
        title=text[:60],
        kind=kind,
        level=level,
        description=text,
        lat=case.lat,
        lng=case.lng,
        grid_code=case.grid.code if case.grid_id else "",
        source=Source.CASE,
        case=case,
        at=at,
    )


# --- the duty roster, telling the people on duty, acknowledgements --------------------------------

MAX_POSITION = 9
MAX_SHIFT = dt.timedelta(days=7)
NOTE_LENGTH = 100
# Who may be on the roster: the staff who open the emergency pages.
ROSTER_ROLES = selectors.READ_ROLES
# Unacknowledged emergencies older than this are no longer chased (a worker stopped for a day
# does not wake everyone up at once); the board shows them unacknowledged.
CATCH_UP = dt.timedelta(days=1)


def ack_limit() -> dt.timedelta:
    """How long the person told has to acknowledge before the next on the roster is told."""
    return dt.timedelta(minutes=int(cast(int, settings.JIEDAO.get("EMERGENCY_ACK_MINUTES", 5))))


def _beijing(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _name(person):
    return person.display_name or person.username


@transaction.atomic
def add_shift(
    user: User,
    *,
    person_id: int | None,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    position: int | None = 1,
    note: str = "",
) -> DutyShift:
    """Put a staff member on the roster (值班表) from ``starts_at`` to ``ends_at`` at ``position``
    in the chain (1 = 第一值班人). Every fault is named by its field."""
    _require(user, "emergency.duty", _("只有指挥中心可以编排值班表。"))
    errors = FieldErrors()
    person = None
    if person_id is None:
        errors.add("person", _("请选择值班人员。"))
    else:
        person = User.objects.select_for_update().filter(pk=person_id, is_active=True).first()
        streets = user.street_ids
        if (
            person is None
            or not person.has_role(*ROSTER_ROLES)
            or (streets is not None and person.street_id is not None and person.street_id not in streets)
        ):
            errors.add("person", _("值班人员必须是本街道的工作人员。"))
            person = None
    if starts_at is None:
        errors.add("starts_at", _("请填写开始时间（如 2026-11-18 08:00）。"))
    if ends_at is None:
        errors.add("ends_at", _("请填写结束时间（如 2026-11-18 20:00）。"))
    if starts_at is not None and ends_at is not None:
        if ends_at <= starts_at:
            errors.add("ends_at", _("结束时间必须晚于开始时间。"))
        elif ends_at - starts_at > MAX_SHIFT:
            errors.add("ends_at", _("一个班次不能超过7天。"))
        elif person is not None:
            clash = (
                DutyShift.objects.filter(person=person, starts_at__lt=ends_at, ends_at__gt=starts_at)
                .order_by("starts_at")
                .first()
            )
            if clash is not None:
                errors.add(
                    "starts_at",
                    _("%(name)s 在 %(start)s 至 %(end)s 已有值班安排，同一人的班次不能重叠。")
                    % {"name": _name(person), "start": _beijing(clash.starts_at), "end": _beijing(clash.ends_at)},
                )
    if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= MAX_POSITION:
        errors.add("position", _("值班顺位应为 1 到 %(max)d 之间的整数。") % {"max": MAX_POSITION})
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        errors.add("note", _("备注不能超过%(max)d个字。") % {"max": NOTE_LENGTH})
    errors.raise_if_any()
    return DutyShift.objects.create(  # none of them None past the checks above
        person=cast(User, person),
        starts_at=cast(dt.datetime, starts_at),
        ends_at=cast(dt.datetime, ends_at),
        position=cast(int, position),
        note=note,
        created_by=user,
    )


@transaction.atomic
def remove_shift(user: User, *, shift_id: int, now: dt.datetime | None = None) -> None:
    """Take a shift off the roster; a shift that has ended stays as the record of who was on duty."""
    _require(user, "emergency.duty", _("只有指挥中心可以编排值班表。"))
    shift = (
        street_records(user, DutyShift.objects.select_for_update(of=("self",)), "person__street")
        .filter(pk=shift_id)
        .first()
    )
    if shift is None:
        raise NotFound(_("值班安排不存在。"))
    if shift.ends_at <= _now(now):
        raise InvalidTransition(_("已结束的班次是值班记录，不能删除。"))
    shift.delete()


def ack_page(emergency: Emergency) -> str:
    return reverse("emergency:ack", args=[emergency.number])


def _street_id(emergency):
    return emergency.community.street_id if emergency.community_id else None


def _leaders(street_id):
    """The active leaders answering for the street (or for every street)."""
    where = Q(street__isnull=True) if street_id is None else Q(street_id=street_id) | Q(street__isnull=True)
    return list(User.objects.filter(where, groups__name=LEADER, is_active=True).distinct().order_by("pk"))


def _describe(emergency):
    place = emergency.address
    if not place and emergency.grid_id:
        place = f"{emergency.grid.community.name}{emergency.grid.name}"
    return _("突发事件 %(number)s：%(title)s，地点：%(place)s，等级：%(level)s。") % {
        "number": emergency.number,
        "title": emergency.title,
        "place": place or _("未注明"),
        "level": emergency.get_level_display(),
    }


def _tell_person(emergency, person, *, step, now, chain=None):
    """Tell the ``step``-th person of the chain; what to write in the event's ``data["told"]``."""
    if step == 1:
        ask = _("您是当前第一值班人，请立即打开链接确认接警（收到）。")
    else:
        ask = _("前一位值班人员%(minutes)d分钟内未确认接警，您是第%(step)d值班人，请立即打开链接确认接警（收到）。") % {
            "minutes": ack_limit().total_seconds() // 60,
            "step": step,
        }
    notify(kind="emergency_duty", user=person, link=ack_page(emergency), at=now, message=_describe(emergency) + ask)
    told = {"step": step, "users": [person.pk], "leaders": False}
    if chain is not None:
        told["chain"] = chain
    return told


def _tell_leaders(emergency, *, step, reason, now, chain=None):
    leaders = _leaders(_street_id(emergency))
    if reason == "no_roster":
        ask = _("值班表上此刻无人值班，请立即安排处置并确认接警。")
    else:
        ask = _("值班人员%(minutes)d分钟内均未确认接警，请立即督促处置并确认接警。") % {
            "minutes": ack_limit().total_seconds() // 60
        }
    notify(
        kind="emergency_escalate",
        users=leaders,
        link=ack_page(emergency),
        at=now,
        message=_describe(emergency) + ask,
    )
    told = {"step": step, "users": [u.pk for u in leaders], "leaders": True, "reason": reason}
    if chain is not None:
        told["chain"] = chain
    return told, leaders


def _tell_on_duty(emergency, *, now):
    """Tell the first on duty at ``now`` (or the leaders when nobody is): the ``told`` entry of
    the report, with the chain to go down if nobody acknowledges."""
    chain = [shift.person for shift in selectors.on_duty(at=now, street_id=_street_id(emergency))]
    if chain:
        return _tell_person(emergency, chain[0], step=1, now=now, chain=[p.pk for p in chain])
    told, _leaders_told = _tell_leaders(emergency, step=1, reason="no_roster", now=now, chain=[])
    return told


def escalate_unacknowledged(*, now: dt.datetime | None = None) -> int:
    """The worker's job, every minute: an open emergency told to someone who has not acknowledged
    it within ``EMERGENCY_ACK_MINUTES`` goes to the next on the roster, after the last to the
    street's leaders. Each step is an ``escalate`` event written under the emergency's lock, so
    it happens once however many workers run. Returns the number of steps taken."""
    now = _now(now)
    limit = ack_limit()
    candidates = list(
        Emergency.objects.filter(
            status__in=OPEN_STATUSES, reported_at__gte=now - CATCH_UP, events__data__has_key="told"
        )
        .exclude(events__action=selectors.ACK_ACTION)
        .distinct()
        .order_by("reported_at")
        .values_list("pk", flat=True)
    )
    steps = 0
    for pk in candidates:
        with transaction.atomic():
            emergency = (
                Emergency.objects.select_for_update(of=("self",))
                .select_related("community", "grid__community")
                .filter(pk=pk)
                .first()
            )
            if emergency is None or emergency.status not in OPEN_STATUSES:
                continue
            if emergency.events.filter(action=selectors.ACK_ACTION).exists():
                continue
            told = selectors.tellings(emergency)
            last = told[-1].data["told"]
            if last.get("leaders") or now < told[-1].at + limit:
                continue
            chain = told[0].data["told"].get("chain", [])
            step = len(told) + 1
            person = None
            if len(told) < len(chain):
                person = User.objects.filter(pk=chain[len(told)], is_active=True).first()
            if person is not None:
                entry = _tell_person(emergency, person, step=step, now=now)
                note = _("%(minutes)d分钟内未确认接警，已通知第%(step)d值班人 %(name)s。") % {
                    "minutes": limit.total_seconds() // 60,
                    "step": step,
                    "name": _name(person),
                }
            else:
                entry, leaders = _tell_leaders(emergency, step=step, reason="unanswered", now=now)
                note = _("%(minutes)d分钟内未确认接警，已通知街道领导 %(names)s。") % {
                    "minutes": limit.total_seconds() // 60,
                    "names": "、".join(_name(u) for u in leaders) or _("（无）"),
                }
            EMERGENCIES.record(emergency, "escalate", None, at=now, note=note, data={"told": entry})
            steps += 1
    return steps


@transaction.atomic
def acknowledge(user: User, *, number: str, at: dt.datetime | None = None) -> EmergencyEvent:
    """收到 (确认接警): the person told, or anyone of the command centre, acknowledges the
    emergency. Written once, as the ``ack`` event with the seconds since the report."""
    _require(user, "emergency.ack", _("只有街道工作人员可以确认接警。"))
    emergency = _locked(number)
    if emergency.status not in OPEN_STATUSES:
        raise InvalidTransition(_("事件已结束，无需确认接警。"))
    done = selectors.acknowledgement(emergency)
    if done is not None:
        raise InvalidTransition(
            _("%(name)s 已于 %(at)s 确认接警。")
            % {"name": _name(done.actor) if done.actor else _("系统"), "at": _beijing(done.at)}
        )
    if user.pk not in selectors.told_users(emergency) and not rules.may_command(user):
        raise NotAllowed(_("只有被通知的值班人员或指挥中心可以确认接警。"))
    now = _now(at)
    seconds = max(round((now - emergency.reported_at).total_seconds()), 0)
    return EMERGENCIES.record(
        emergency,
        selectors.ACK_ACTION,
        user,
        at=now,
        note=_("接警用时 %(time)s") % {"time": selectors.duration_text(seconds)},
        data={"seconds": seconds},
    )


# --- supplies -----------------------------------------------------------------------------------


def _stock_locked(stock_id):
    stock = Stock.objects.select_for_update(of=("self",)).select_related("depot").filter(pk=stock_id).first()
    if stock is None:
        raise NotFound(_("库存条目不存在。"))
    return stock


def _apply(stock, kind, quantity, user, note, emergency, at):
    delta = quantity if kind in (Movement.Kind.IN, Movement.Kind.TRANSFER_IN) else -quantity
    if stock.quantity + delta < 0:
        raise ValidationFailed(
            "quantity",
            _("%(item)s库存只有%(have)d%(unit)s，不能出库%(want)d%(unit)s。")
            % {"item": stock.item, "have": stock.quantity, "want": quantity, "unit": stock.unit_label},
        )
    stock.quantity += delta
    stock.save(update_fields=["quantity"])
    return Movement.objects.create(
        stock=stock,
        kind=kind,
        quantity=quantity,
        balance=stock.quantity,
        note=note,
        emergency=emergency,
        by=user,
        at=_now(at),
    )


MAX_QUANTITY = 1_000_000  # one movement of the ledger; a database column holds far less than any int


def _check_quantity(quantity):
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
        raise ValidationFailed("quantity", _("数量应为 1 到 %(max)d 之间的整数。") % {"max": MAX_QUANTITY})


@transaction.atomic
def move_stock(
    user: User,
    *,
    stock_id: int | None,
    kind: str,
    quantity: int | None,
    note: str = "",
    emergency_number: str = "",
    at: dt.datetime | None = None,
) -> Movement:
    """入库, 出库 or 过期报废 on the ledger. The stock never goes below zero."""
    _require(user, "emergency.stock", _("只有应急物资管理人员可以出入库。"))
    if kind not in (Movement.Kind.IN, Movement.Kind.OUT, Movement.Kind.EXPIRY):
        raise ValidationFailed("kind", _("出入库类型无效。"))
    _check_quantity(quantity)
    emergency = None
    if emergency_number:
        emergency = Emergency.objects.filter(number=emergency_number).first()
        if emergency is None:
            raise ValidationFailed("emergency", _("突发事件 %(number)s 不存在。") % {"number": emergency_number})
    stock = _stock_locked(stock_id)
    movement = _apply(stock, kind, quantity, user, (note or "").strip()[:200], emergency, at)
    if emergency is not None and kind == Movement.Kind.OUT:
        EMERGENCIES.record(
            emergency,
            "supply",
            user,
            at=at,
            note=f"{stock.depot.name} {stock.item} ×{quantity}{stock.unit_label}",
        )
    return movement


@transaction.atomic
def transfer_stock(
    user: User,
    *,
    stock_id: int | None,
    to_depot_id: int | None,
    quantity: int | None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Movement:
    """调拨: out of one depot and into another, both on the ledger."""
    _require(user, "emergency.stock", _("只有应急物资管理人员可以调拨。"))
    _check_quantity(quantity)
    source = _stock_locked(stock_id)
    depot = Depot.objects.filter(pk=to_depot_id).first() if to_depot_id is not None else None
    if depot is None or depot.pk == source.depot_id:
        raise ValidationFailed("to_depot", _("请选择另一个储备点。"))
    target, _created = Stock.objects.select_for_update().get_or_create(
        depot=depot, item=source.item, defaults={"unit_label": source.unit_label}
    )
    _apply(source, Movement.Kind.TRANSFER_OUT, quantity, user, note or _("调往%(d)s") % {"d": depot.name}, None, at)
    return _apply(
        target, Movement.Kind.TRANSFER_IN, quantity, user, note or _("来自%(d)s") % {"d": source.depot.name}, None, at
    )


@transaction.atomic
def call_off(
    user: User, *, number: str, agreement_id: int | None, goods: str, at: dt.datetime | None = None
) -> CallOff:
    """Call on a supply agreement during an emergency (协议调用); recorded on the timeline."""
    _require(user, "emergency.call_off")
    emergency = _locked(number)
    if emergency.status in (Status.CLOSED, Status.CANCELLED):
        raise InvalidTransition(_("事件已结束，不能再调用协议物资。"))
    agreement = Agreement.objects.filter(pk=agreement_id).first() if agreement_id is not None else None
    if agreement is None:
        raise ValidationFailed("agreement", _("协议供应商不存在。"))
    goods = (goods or "").strip()
    if not goods:
        raise ValidationFailed("goods", _("请填写调用的物资。"))
    now = _now(at)
    call = CallOff.objects.create(agreement=agreement, emergency=emergency, goods=goods[:200], called_at=now, by=user)
    EMERGENCIES.record(
        emergency,
        "calloff",
        user,
        at=now,
        note=f"{agreement.supplier}：{goods}",
        data={"call": call.pk},
    )
    return call


@transaction.atomic
def mark_delivered(user: User, *, call_id: int, at: dt.datetime | None = None) -> CallOff:
    _require(user, "emergency.delivered")
    call = CallOff.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        raise NotFound()
    if call.delivered_at is not None:
        raise InvalidTransition(_("已登记送达。"))
    call.delivered_at = _now(at)
    if call.delivered_at < call.called_at:
        raise ValidationFailed("at", _("送达时间不能早于调用时间。"))
    call.save(update_fields=["delivered_at"])
    return call


# --- drills and training -------------------------------------------------------------------------


@transaction.atomic
def plan_drill(user: User, *, title: str, kind: str, community_id: int, planned_on: dt.date) -> Drill:
    _require(user, "emergency.drill")
    if not (title or "").strip():
        raise ValidationFailed("title", _("请填写演练名称。"))
    if kind not in Kind.values:
        raise ValidationFailed("kind", _("演练类型无效。"))
    return Drill.objects.create(title=title.strip()[:100], kind=kind, community_id=community_id, planned_on=planned_on)


@transaction.atomic
def complete_drill(user: User, *, drill_id: int, held_on: dt.date, participants: int, findings: str = "") -> Drill:
    """A planned drill was held: when, how many took part, what it found."""
    _require(user, "emergency.drill")
    drill = Drill.objects.select_for_update().filter(pk=drill_id).first()
    if drill is None:
        raise NotFound()
    checked = DRILLS.check(user, drill, "complete")
    if not isinstance(participants, int) or participants <= 0:
        raise ValidationFailed("participants", _("参演人数应为正整数。"))
    drill.held_on, drill.participants, drill.findings = held_on, participants, (findings or "").strip()
    DRILLS.take(user, drill, "complete", checked=checked, save_fields=("held_on", "participants", "findings"))
    return drill


@transaction.atomic
def record_training(user: User, *, trainee: User, year: int, passed: bool) -> Training:
    _require(user, "emergency.training")
    record, _created = Training.objects.update_or_create(user=trainee, year=year, defaults={"passed": passed})
    return record


# --- devices, readings, rules and alerts -----------------------------------------------------------


@transaction.atomic
def register_device(
    user: User | None,
    *,
    code: str,
    name: str,
    kind: str,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    owner_code: str = "",
    person: Person | None = None,
    _system: bool = False,
) -> tuple[Device, str]:
    """Register a device. Returns ``(device, token)``: the token is shown once, only its hash is kept."""
    if not _system:
        _require(user, "emergency.device")
    errors = FieldErrors()
    if not code or Device.objects.filter(code=code).exists():
        errors.add("code", _("设备编号为空或已存在。"))
    if kind not in DeviceKind.values:
        errors.add("kind", _("设备类型无效。"))
    owner = Unit.objects.filter(code=owner_code).first() if owner_code else None
    if owner_code and owner is None:
        errors.add("owner", _("单位代码“%(code)s”不存在。") % {"code": owner_code})
    errors.raise_if_any()
    grid = None
    if lat is not None and lng is not None:
        grid_id = grid_id_at(lat, lng)
        grid = Grid.objects.filter(pk=grid_id).first() if grid_id else None
    token = secrets.token_urlsafe(24)
    device = Device.objects.create(
        code=code,
        name=name or code,
        kind=kind,
        token_hash=hash_token(token),
        lat=lat,
        lng=lng,
        address=address,
        grid=grid,
        owner=owner,
        person=person,
    )
    return device, token


def raise_alert(
    subject: str,
    *,
    level: str,
    message: str,
    source: str = Alert.Source.RULE,
    device: Device | None = None,
    rule: Rule | None = None,
    value: float | None = None,
    emergency: Emergency | None = None,
    at: dt.datetime | None = None,
) -> Alert | None:
    """Raise an alert unless one is open for the same subject (suppressed: returns None)."""
    if Alert.objects.filter(subject=subject, status=Alert.Status.OPEN).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                subject=subject,
                source=source,
                device=device,
                rule=rule,
                level=level,
                message=message[:300],
                value=value,
                raised_at=_now(at),
                emergency=emergency,
            )
    except IntegrityError:  # raised at the same moment by another process
        return None
    if device is not None and device.owner_id:
        notify(unit=device.owner, kind="alert", message=f"{alert.get_level_display()}：{alert.message}")
    return alert


# The longest text each field of a reading may hold (the columns' lengths).
READING_TEXT = {"device": 30, "token": 100, "metric": 20, "event": 30}


def _reading_fields(raw, where, errors):
    """One reading as sent (a JSON object) in the shape the checks below read, each field of
    the wrong type named — so a malformed reading does not hide the faults of the others."""
    if not isinstance(raw, dict):
        errors.add(where, _("每条读数应是一个对象（含 device、token、at 等字段）。"))
        return None
    item = {}
    for field, longest in READING_TEXT.items():
        value = raw.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.add(f"{where}.{field}", _("应为文字。"))
            value = ""
        elif len(value) > longest:
            errors.add(f"{where}.{field}", _("最多%(n)d个字符。") % {"n": longest})
        elif not value and field in ("device", "token"):
            errors.add(f"{where}.{field}", _("必填。"))
        item[field] = value
    at = raw.get("at")
    if isinstance(at, str):
        try:
            at = parse_datetime(at.strip())
        except ValueError:
            at = None
    if not isinstance(at, dt.datetime):
        errors.add(f"{where}.at", _("应为带时区的时间，例如 2026-12-07T08:30:00+08:00。"))
        at = None
    item["at"] = at
    value = raw.get("value")
    if isinstance(value, str) and value.strip():
        try:
            value = float(value)
        except ValueError:
            pass
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        errors.add(f"{where}.value", _("应为数字。"))
        value = None
    item["value"] = None if value is None else float(value)
    return item


def _parse_batch(items, now):
    """Checks the whole batch; raises ValidationFailed naming every bad reading. Returns the
    devices by code and the readings in the shape ``ingest`` stores."""
    errors = FieldErrors()
    if not items:
        errors.add("readings", _("没有读数。"))
    elif len(items) > MAX_BATCH:
        errors.add("readings", _("一批最多%(max)d条读数。") % {"max": MAX_BATCH})
    errors.raise_if_any()
    faults = [FieldErrors() for _raw in items]  # each reading's, so the answer lists them in order
    cleaned = [_reading_fields(raw, f"readings.{index}", faults[index]) for index, raw in enumerate(items)]
    codes = {item["device"] for item in cleaned if item}
    devices = {d.code: d for d in Device.objects.filter(code__in=codes, active=True)}
    verified = set()
    for index, item in enumerate(cleaned):
        # Every reading is checked to the end, whatever was wrong before it or in it: the
        # answer names each fault of each reading, so that one resend can fix them all.
        where = f"readings.{index}"
        errors = faults[index]
        if item is None:
            continue

        def named(field, errors=errors, where=where):
            return any(error["field"] == f"{where}.{field}" for error in errors.errors)

        device = devices.get(item["device"])
        if named("device"):
            pass  # not text, too long or missing: said above
        elif device is None:
            errors.add(f"{where}.device", _("设备“%(code)s”未登记或已停用。") % {"code": item["device"]})
        elif not named("token") and (device.code, item["token"]) not in verified:
            if secrets.compare_digest(hash_token(item["token"] or ""), device.token_hash):
                verified.add((device.code, item["token"]))
            else:
                errors.add(f"{where}.token", _("设备“%(code)s”的令牌不正确。") % {"code": device.code})
        at = item["at"]
        if at is not None and timezone.is_naive(at):
            at = timezone.make_aware(at)
            item["at"] = at
        if at is not None and (at > now + FUTURE_SLACK or at < now - MAX_AGE):
            errors.add(f"{where}.at", _("时间 %(at)s 超出允许范围（7天内且不晚于当前时间）。") % {"at": at.isoformat()})
        value, metric, event = item.get("value"), item.get("metric") or "", item.get("event") or ""
        if value is None and not event and not named("value"):
            errors.add(f"{where}.value", _("读数应有数值（value）或事件（event）。"))
        elif value is not None:
            if not metric:
                errors.add(f"{where}.metric", _("数值读数需要指标名（metric）。"))
            elif not math.isfinite(value):
                errors.add(f"{where}.value", _("数值无效。"))
            else:
                low_high = METRIC_RANGES.get(metric)
                if low_high and not (low_high[0] <= value <= low_high[1]):
                    errors.add(
                        f"{where}.value",
                        _("%(metric)s 的数值 %(value)s 超出合理范围 %(low)s–%(high)s。")
                        % {"metric": metric, "value": value, "low": low_high[0], "high": low_high[1]},
                    )
    every_fault = [error for reading_faults in faults for error in reading_faults.errors]
    if every_fault:
        raise ValidationFailed(errors=every_fault)
    return devices, cleaned


def _rules_by_kind():
    rules = {}
    for rule in Rule.objects.filter(active=True).order_by("id"):
        rules.setdefault(rule.device_kind, []).append(rule)
    return rules


def _fire_message(rule, device, value):
    text = f"{device.name}：{rule.name}"
    if value is not None:
        text += _("（读数 %(value)s）") % {"value": f"{value:g}"}
    return text


def _evaluate(device, rules, reading, fire):
    """Apply the device's rules to one reading (in time order), remembering what they need."""
    state = device.state
    at, metric, value, event = reading.at, reading.metric, reading.value, reading.event
    stamp = at.timestamp()
    for rule in rules:
        check = rule.trigger
        if check == Rule.Trigger.EVENT:
            if event and (not rule.metric or rule.metric == event):
                fire(rule, None, f"{device.name}：{event}")
            continue
        if value is None or metric != rule.metric or (rule.threshold is None and check != Rule.Trigger.NO_USE):
            continue
        if check in (Rule.Trigger.ABOVE, Rule.Trigger.BELOW):
            breach = value > rule.threshold if check == Rule.Trigger.ABOVE else value < rule.threshold
            key = f"b{rule.pk}"
            if breach:
                since = state.setdefault(key, stamp)
                if stamp - since >= rule.duration_minutes * 60:
                    fire(rule, value, None)
            else:
                state.pop(key, None)
        elif check == Rule.Trigger.RATE:
            last = state.get(f"v:{metric}")
            if last is not None and stamp > last[1]:
                per_minute = abs(value - last[0]) / ((stamp - last[1]) / 60)
                if per_minute >= rule.threshold:
                    fire(rule, value, None)
        elif check == Rule.Trigger.NO_USE and value > 0:
            state["used_on"] = timezone.localtime(at).date().isoformat()
    if value is not None:
        last = state.get(f"v:{metric}")
        if last is None or stamp >= last[1]:
            state[f"v:{metric}"] = [value, stamp]


class _Item:
    __slots__ = ("at", "device", "event", "metric", "value")

    def __init__(self, device, at, metric, value, event):
        self.device, self.at, self.metric, self.value, self.event = device, at, metric, value, event


def _store(items, now):
    """Rows straight to the table (one ``executemany``): the ORM's per-object cost would
    dominate a batch of thousands of readings."""
    ops = connection.ops
    table = connection.ops.quote_name(Reading._meta.db_table)
    received = ops.adapt_datetimefield_value(now)
    rows = [(i.device.pk, ops.adapt_datetimefield_value(i.at), i.metric, i.value, i.event, received) for i in items]
    with connection.cursor() as cursor:
        # A reading is known by device, time, metric and event: one sent again (a device or
        # gateway retrying after a lost answer) is not stored twice.
        cursor.executemany(
            f"INSERT INTO {table} (device_id, at, metric, value, event, received_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            rows,
        )


def _save_devices(devices):
    state_field = Device._meta.get_field("state")
    seen_field = Device._meta.get_field("last_seen_at")
    table = connection.ops.quote_name(Device._meta.db_table)
    rows = [
        (
            state_field.get_db_prep_save(d.state, connection),
            seen_field.get_db_prep_save(d.last_seen_at, connection),
            d.pk,
        )
        for d in devices
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET state = %s, last_seen_at = %s WHERE id = %s", rows)


@transaction.atomic
def ingest(items: list[Any], *, now: dt.datetime | None = None) -> dict[str, int]:
    """Store a batch of readings (dicts as sent: device, token, at, metric, value, event) and
    evaluate the rules. The batch is accepted whole or rejected whole. A reading already
    stored (same device, time, metric and event: a batch sent again) is counted as a
    duplicate and neither stored nor evaluated again.
    Returns ``{"accepted": n, "duplicates": n, "alerts": n}``."""
    now = _now(now)
    devices, items = _parse_batch(items, now)
    rules = _rules_by_kind()
    open_subjects = set(
        Alert.objects.filter(
            status=Alert.Status.OPEN, subject__in=[f"device:{d.pk}" for d in devices.values()]
        ).values_list("subject", flat=True)
    )
    sent = [
        _Item(devices[i["device"]], i["at"], i.get("metric") or "", i.get("value"), (i.get("event") or "")[:30])
        for i in items
    ]
    known = set(
        Reading.objects.filter(device_id__in={r.device.pk for r in sent}, at__in={r.at for r in sent}).values_list(
            "device_id", "at", "metric", "event"
        )
    )
    readings = []
    for reading in sent:
        key = (reading.device.pk, reading.at, reading.metric, reading.event)
        if key not in known:
            known.add(key)
            readings.append(reading)
    _store(readings, now)
    raised = []
    touched = {}
    readings.sort(key=lambda r: (r.device.pk, r.at))
    for reading in readings:
        device = reading.device
        touched[device.pk] = device
        if device.last_seen_at is None or reading.at > device.last_seen_at:
            device.last_seen_at = reading.at
        device_rules = rules.get(device.kind)
        if not device_rules:
            continue
        subject = f"device:{device.pk}"

        def fire(rule, value, message, device=device, subject=subject, reading=reading):
            if subject in open_subjects:
                return
            alert = raise_alert(
                subject,
                level=rule.level,
                message=message or _fire_message(rule, device, value),
                device=device,
                rule=rule,
                value=value,
                at=reading.at,
            )
            open_subjects.add(subject)
            if alert is not None:
                raised.append(alert)

        _evaluate(device, device_rules, reading, fire)
    _save_devices(touched.values())
    return {"accepted": len(readings), "duplicates": len(sent) - len(readings), "alerts": len(raised)}


def sweep_sensors(now: dt.datetime | None = None) -> dict[str, int]:
    """The worker's periodic checks: silent devices (offline), meters without use by noon,
    and a surge of complaints (yellow). Returns counts."""
    now = _now(now)
    counts = {"offline": 0, "no_use": 0, "surge": 0}
    local = timezone.localtime(now)
    for rule in Rule.objects.filter(active=True, trigger__in=[Rule.Trigger.SILENCE, Rule.Trigger.NO_USE]):
        devices = Device.objects.filter(kind=rule.device_kind, active=True)
        if rule.trigger == Rule.Trigger.SILENCE:
            limit = now - dt.timedelta(minutes=rule.threshold or 60)
            for device in devices.filter(last_seen_at__lt=limit):
                seen = cast(dt.datetime, device.last_seen_at)  # not None: filtered on it above
                minutes = int((now - seen).total_seconds() // 60)
                if raise_alert(
                    f"device:{device.pk}",
                    level=rule.level,
                    message=_("%(device)s 已 %(minutes)d 分钟无数据（离线）")
                    % {"device": device.name, "minutes": minutes},
                    device=device,
                    rule=rule,
                    at=now,
                ):
                    counts["offline"] += 1
        elif local.hour >= 12:
            today = local.date().isoformat()
            for device in devices:
                if device.state.get("used_on") != today and raise_alert(
                    f"device:{device.pk}",
                    level=rule.level,
                    message=_("%(device)s 今日中午前无用电，请上门查看") % {"device": device.name},
                    device=device,
                    rule=rule,
                    at=now,
                ):
                    counts["no_use"] += 1
    if check_complaint_surge(now):
        counts["surge"] = 1
    return counts


def check_complaint_surge(now: dt.datetime | None = None) -> Alert | None:
    """Yellow warning when the complaints of the last 24 hours are three times (a jump of
    200 %) the daily mean of the seven days before."""
    now = _now(now)
    day = dt.timedelta(days=1)
    recent = Case.objects.filter(created_at__gt=now - day, created_at__lte=now).count()
    before = Case.objects.filter(created_at__gt=now - 8 * day, created_at__lte=now - day).count()
    mean = before / 7
    if recent < SURGE_MIN_CASES or recent < SURGE_FACTOR * max(mean, 1):
        return None
    jump = round((recent - mean) / mean * 100) if mean else None
    message = _("诉求量激增：近24小时 %(recent)d 件，前7天日均 %(mean).1f 件") % {"recent": recent, "mean": mean}
    if jump is not None:
        message += _("（增幅 %(jump)d%%）") % {"jump": jump}
    return raise_alert("surge", level=WarningLevel.YELLOW, message=message, source=Alert.Source.SURGE, at=now)


@transaction.atomic
def decide_alert(user: User, *, alert_id: int, confirm: bool, note: str = "", at: dt.datetime | None = None) -> Alert:
    """An operator confirms or dismisses an open alert. A confirmed alert becomes what its
    rule says: a case (routed as usual) or an emergency. While the case of an earlier alert of
    the same device and rule is open, the alert is counted on that case instead of opening
    another (``cases.alerts.submit_alert``)."""
    _require(user, "emergency.alert", _("只有值班人员可以确认或排除预警。"))
    alert = (
        Alert.objects.select_for_update(of=("self",))
        .select_related("device", "device__grid", "rule")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise NotFound(_("预警不存在。"))
    action = "confirm" if confirm else "dismiss"
    checked = ALERTS.check(user, alert, action)
    now = _now(at)
    alert.decided_by, alert.note = user, (note or "").strip()[:200]
    rule, device = alert.rule, alert.device
    if confirm and rule is not None and rule.outcome == Rule.Outcome.CASE:
        description = _("【感知设备预警】%(message)s。位置：%(place)s。") % {
            "message": alert.message,
            "place": (device.address if device else "") or "—",
        }
        lat, lng = (device.lat, device.lng) if device is not None else (None, None)
        address = device.address if device is not None else ""
        # Filed under the device's own grid (its position's, or as an administrator set it).
        grid_code = device.grid.code if device is not None and device.grid is not None else ""
        if device is not None:
            case, _created = case_alerts.submit_alert(
                user,
                source=case_alerts.alert_source(device.pk, rule.pk),
                message=alert.message,
                alerted_at=alert.raised_at,
                at=now,
                description=description,
                lat=lat,
                lng=lng,
                address=address,
                grid_code=grid_code,
                category_code=rule.category_code,
                dispatch=bool(rule.category_code),
            )
        else:
            case, _created = case_services.submit_case(
                user,
                channel="sensor",
                description=description,
                lat=lat,
                lng=lng,
                address=address,
                category_code=rule.category_code,
                dispatch=bool(rule.category_code),
                at=now,
            )
        alert.case = case
    elif confirm and rule is not None and rule.outcome == Rule.Outcome.EMERGENCY:
        alert.emergency = report_emergency(
            user,
            title=alert.message[:100],
            kind=rule.emergency_kind or Kind.OTHER,
            level=Level.III if alert.level == WarningLevel.RED else Level.IV,
            description=alert.message,
            address=device.address if device else "",
            lat=device.lat if device else None,
            lng=device.lng if device else None,
            source=Source.ALERT,
            at=now,
            _system=True,
        )
    ALERTS.take(user, alert, action, at=now, checked=checked, save_fields=("decided_by", "note", "case", "emergency"))
    return alert
