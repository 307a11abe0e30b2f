"""Reads of 应急管理, and the measures users see: arrival and disposal times against
their targets, 储备达标率, drill coverage, training 合格率 and 预警准确率. Each measure
comes from one function here, used by pages, API and tests alike."""

import datetime as dt
import math
import statistics
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import NotAllowed, NotFound
from jiedao.common.masking import mask_phone
from jiedao.org.models import Community, Grid, User
from jiedao.org.selectors import street_records

from . import states
from .models import (
    OPEN_STATUSES,
    Agreement,
    Alert,
    CareCheck,
    Depot,
    Device,
    Drill,
    DutyShift,
    Emergency,
    EmergencyEvent,
    Movement,
    Post,
    Status,
    Stock,
    Training,
)
from .rules import may_command

READ_ROLES = ("leader", "dispatcher", "operator", "handler", "grid", "admin")
EXPIRY_WARNING_DAYS = 30


def may_read(user):
    return user is not None and user.is_authenticated and user.has_role(*READ_ROLES)


def require_read(user):
    if not may_read(user):
        raise NotAllowed(_("只有街道工作人员可以查看应急管理。"))


# --- emergencies ----------------------------------------------------------------------------


def emergencies(user, *, open_only=False, limit=100):
    require_read(user)
    qs = street_records(user, Emergency.objects.select_related("grid__community", "lead_unit"), "community__street")
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return list(qs.order_by("-reported_at", "-id")[:limit])


def emergency_for(user, number):
    require_read(user)
    emergency = (
        street_records(user, Emergency.objects.all(), "community__street")
        .select_related("grid__community", "lead_unit", "case")
        .filter(number=number)
        .first()
    )
    if emergency is None:
        raise NotFound(_("突发事件 %(number)s 不存在。") % {"number": number})
    return emergency


def timeline(emergency):
    events = list(emergency.events.select_related("actor").order_by("at", "id"))
    for event in events:
        event.label = states.EMERGENCIES.label(event.action)
        event.stage = states.stage_of(event.to_status)
    return events


def _minutes(start, end):
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


@dataclass
class Measures:
    arrival_minutes: float | None
    arrival_target: int
    disposal_minutes: float | None
    disposal_target: int

    @property
    def arrival_on_time(self):
        return None if self.arrival_minutes is None else self.arrival_minutes <= self.arrival_target

    @property
    def disposal_on_time(self):
        return None if self.disposal_minutes is None else self.disposal_minutes <= self.disposal_target

    def as_dict(self):
        return {
            "arrival_minutes": self.arrival_minutes,
            "arrival_target": self.arrival_target,
            "arrival_on_time": self.arrival_on_time,
            "disposal_minutes": self.disposal_minutes,
            "disposal_target": self.disposal_target,
            "disposal_on_time": self.disposal_on_time,
        }


def measures(emergency):
    """到场用时 (report → first responder on site) against the plan, and 处置用时
    (report → disposal finished) against the 60-minute target."""
    return Measures(
        _minutes(emergency.reported_at, emergency.arrived_at),
        emergency.arrival_target_minutes,
        _minutes(emergency.reported_at, emergency.recovered_at),
        emergency.disposal_target_minutes,
    )


def stages(emergency):
    """The four stages with the time each was reached, for the timeline picture."""
    reached = {
        "monitor": emergency.reported_at,
        "respond": emergency.dispatched_at,
        "coordinate": emergency.engaged_at,
        "recover": emergency.recovered_at,
    }
    current = states.stage_of(emergency.status)
    return [
        {"code": code, "label": str(label), "at": reached[code], "current": code == current}
        for code, label, _states in states.STAGES
    ]


def disposal_summary(user, since=None):
    """Among emergencies finished (disposal done) since ``since``: how many within their target."""
    require_read(user)
    qs = Emergency.objects.exclude(recovered_at=None)
    if since:
        qs = qs.filter(reported_at__gte=since)
    done = list(
        qs.only("reported_at", "arrived_at", "recovered_at", "disposal_target_minutes", "arrival_target_minutes")
    )
    on_time = sum(1 for e in done if measures(e).disposal_on_time)
    return {"finished": len(done), "on_time": on_time, "rate": on_time / len(done) if done else None}


def checks_for(user, emergency):
    """The special-care residents to check on: a grid worker sees their own grids' list."""
    require_read(user)
    qs = CareCheck.objects.filter(emergency=emergency).select_related(
        "person__household__house__building", "grid__community", "checked_by"
    )
    if not may_command(user) and not user.has_role("admin"):
        qs = qs.filter(grid__in=user.grids.all()) if user.has_role("grid") else qs.none()
    rows = []
    for check in qs.prefetch_related("person__tags"):
        person = check.person
        house = person.household.house if person.household_id else None
        check.address = str(house) if house else ""
        check.phone = mask_phone(person.phone) if person.phone else ""
        check.tags = [t.name for t in person.tags.all()]
        rows.append(check)
    return rows


def check_progress(emergency):
    counts = dict(CareCheck.objects.filter(emergency=emergency).values_list("result").annotate(n=Count("id")))
    total = sum(counts.values())
    return {
        "total": total,
        "done": total - counts.get(CareCheck.Result.PENDING, 0),
        "helped": counts.get(CareCheck.Result.HELPED, 0),
        "unreachable": counts.get(CareCheck.Result.UNREACHABLE, 0),
    }


def calls_of(emergency):
    calls = list(emergency.calls.select_related("agreement"))
    for call in calls:
        call.minutes = _minutes(call.called_at, call.delivered_at)
        call.on_time = None if call.minutes is None else call.minutes <= call.agreement.delivery_hours * 60
    return calls


# --- supplies --------------------------------------------------------------------------------


def depots(user, today=None):
    """Each depot with its stocks, 储备达标率 (share of items at or above the required level)
    and the items expiring within 30 days."""
    require_read(user)
    today = today or timezone.localdate()
    soon = today + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    result = []
    for depot in Depot.objects.select_related("community").prefetch_related("stocks").order_by("name"):
        stocks = list(depot.stocks.all())
        for stock in stocks:
            stock.short = stock.quantity < stock.required
            stock.expired = stock.expires_on is not None and stock.expires_on < today
            stock.expiring = stock.expires_on is not None and today <= stock.expires_on <= soon
        depot.items = stocks
        depot.rate = compliance_rate(stocks)
        result.append(depot)
    return result


def compliance_rate(stocks):
    """储备达标率: the share of a depot's items held at the required level; None without items."""
    required = [s for s in stocks if s.required > 0]
    if not required:
        return None
    return sum(1 for s in required if s.quantity >= s.required) / len(required)


def expiring(user, today=None):
    require_read(user)
    today = today or timezone.localdate()
    return list(
        Stock.objects.select_related("depot")
        .filter(expires_on__lte=today + dt.timedelta(days=EXPIRY_WARNING_DAYS), quantity__gt=0)
        .order_by("expires_on")
    )


def ledger(user, stock_id=None, limit=100):
    require_read(user)
    qs = Movement.objects.select_related("stock__depot", "by", "emergency")
    if stock_id:
        qs = qs.filter(stock_id=stock_id)
    return list(qs.order_by("-at", "-id")[:limit])


def agreements(user):
    require_read(user)
    return list(Agreement.objects.annotate(n_calls=Count("calls")).order_by("supplier"))


# --- drills and training ----------------------------------------------------------------------


def drills(user, year=None):
    require_read(user)
    qs = Drill.objects.select_related("community")
    if year:
        qs = qs.filter(planned_on__year=year)
    return list(qs.order_by("-planned_on"))


def drill_coverage(year):
    """Communities that held at least one drill in ``year`` out of all communities (target 100 %)."""
    total = Community.objects.count()
    covered = (
        Drill.objects.filter(status=Drill.Status.DONE, held_on__year=year)
        .exclude(community=None)
        .values("community")
        .distinct()
        .count()
    )
    return {"covered": covered, "total": total, "rate": covered / total if total else None}


def training_pass_rate(year):
    """Staff who passed emergency training in ``year`` among those trained (target 90 %)."""
    counts = Training.objects.filter(year=year).aggregate(n=Count("id"), passed=Count("id", filter=Q(passed=True)))
    return {
        "trained": counts["n"],
        "passed": counts["passed"],
        "rate": counts["passed"] / counts["n"] if counts["n"] else None,
    }


# --- sensors and alerts ------------------------------------------------------------------------


def alerts(user, *, open_only=False, limit=100):
    require_read(user)
    qs = street_records(
        user, Alert.objects.select_related("device", "rule", "case", "emergency"), "device__grid__community__street"
    )
    if open_only:
        qs = qs.filter(status=Alert.Status.OPEN)
    return list(qs.order_by("-raised_at", "-id")[:limit])


def alert_accuracy(since=None):
    """预警准确率: confirmed among decided alerts (target ≥ 85 %)."""
    qs = Alert.objects.exclude(status=Alert.Status.OPEN)
    if since:
        qs = qs.filter(raised_at__gte=since)
    counts = qs.aggregate(n=Count("id"), confirmed=Count("id", filter=Q(status=Alert.Status.CONFIRMED)))
    return {
        "decided": counts["n"],
        "confirmed": counts["confirmed"],
        "rate": counts["confirmed"] / counts["n"] if counts["n"] else None,
    }


def warning_counts():
    """Open warnings by colour (红/黄/蓝)."""
    counts = dict(Alert.objects.filter(status=Alert.Status.OPEN).values_list("level").annotate(n=Count("id")))
    return {"red": counts.get("red", 0), "yellow": counts.get("yellow", 0), "blue": counts.get("blue", 0)}


def devices(user, now=None):
    require_read(user)
    now = now or timezone.now()
    rows = list(
        street_records(user, Device.objects.all(), "grid__community__street")
        .select_related("grid__community", "owner")
        .order_by("code")
    )
    open_ids = set(
        Alert.objects.filter(status=Alert.Status.OPEN).exclude(device=None).values_list("device_id", flat=True)
    )
    for device in rows:
        device.alerting = device.pk in open_ids
    return rows


def posts():
    return list(Post.objects.select_related("parent", "unit", "community", "grid").order_by("level", "name"))


def map_features(user):
    """The grids (outlines), open emergencies and devices as GeoJSON for the map."""
    require_read(user)
    features = []
    for grid in street_records(user, Grid.objects.exclude(boundary=None), "community__street").select_related(
        "community"
    ):
        features.append(
            {
                "type": "Feature",
                "geometry": grid.boundary,
                "properties": {"layer": "grid", "title": f"{grid.community.name} {grid.name}"},
            }
        )
    for e in street_records(user, Emergency.objects.filter(status__in=OPEN_STATUSES), "community__street").exclude(
        lat=None
    ):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [e.lng, e.lat]},
                "properties": {
                    "layer": "emergency",
                    "title": f"{e.number} {e.title}",
                    "status": e.get_status_display(),
                    "level": e.level,
                },
            }
        )
    alerting = set(
        Alert.objects.filter(status=Alert.Status.OPEN).exclude(device=None).values_list("device_id", flat=True)
    )
    for d in street_records(user, Device.objects.filter(active=True), "grid__community__street").exclude(lat=None):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [d.lng, d.lat]},
                "properties": {
                    "layer": "device",
                    "title": d.name,
                    "kind": d.get_kind_display(),
                    "alerting": d.pk in alerting,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def open_status_values():
    return [s.value for s in Status if s in OPEN_STATUSES]


# --- the duty roster and acknowledgements ---------------------------------------------------------

# The entries of the timeline that tell someone of an emergency (the report, telling the first on
# duty or the leaders; each escalation), with whom in ``data["told"]``, and the acknowledgement.
TOLD_ACTIONS = ("report", "escalate")
ACK_ACTION = "ack"


def tellings(emergency: Emergency) -> list[EmergencyEvent]:
    """The entries of the emergency's timeline that told someone, in order."""
    return list(emergency.events.filter(action__in=TOLD_ACTIONS, data__has_key="told").order_by("at", "id"))


def _for_street(street_id: int | None) -> Q:
    """The people answering for a street: those of the street and those of every street."""
    if street_id is None:
        return Q()
    return Q(person__street_id=street_id) | Q(person__street__isnull=True)


def on_duty(*, at: dt.datetime, street_id: int | None = None) -> list[DutyShift]:
    """The shifts of the roster covering the moment ``at``, in the order of the chain (第一值班人
    first), one per person (their first place if listed twice), active people only."""
    shifts = (
        DutyShift.objects.filter(_for_street(street_id), starts_at__lte=at, ends_at__gt=at, person__is_active=True)
        .select_related("person")
        .order_by("position", "starts_at", "id")
    )
    chain, seen = [], set()
    for shift in shifts:
        if shift.person_id not in seen:
            seen.add(shift.person_id)
            chain.append(shift)
    return chain


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def roster_week(user: User, *, monday: dt.date) -> list[dict]:
    """The week from ``monday`` day by day: each day's shifts (those overlapping the day, in
    Beijing time), in the order of the chain."""
    require_read(user)
    zone = timezone.get_current_timezone()
    first = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    last = first + dt.timedelta(days=7)
    shifts = list(
        street_records(user, DutyShift.objects.all(), "person__street")
        .filter(starts_at__lt=last, ends_at__gt=first)
        .select_related("person")
        .order_by("position", "starts_at", "id")
    )
    days = []
    for offset in range(7):
        start = first + dt.timedelta(days=offset)
        end = start + dt.timedelta(days=1)
        days.append({"date": start.date(), "shifts": [s for s in shifts if s.starts_at < end and s.ends_at > start]})
    return days


def told_users(emergency: Emergency) -> set[int]:
    """Everyone the emergency was sent to (the people on duty, the leaders)."""
    told: set[int] = set()
    for event in tellings(emergency):
        told.update(event.data["told"].get("users", []))
    return told


def acknowledgement(emergency: Emergency) -> EmergencyEvent | None:
    return emergency.events.filter(action=ACK_ACTION).select_related("actor").order_by("at", "id").first()


def duration_text(seconds: float | None) -> str:
    """A duration as people say it: 45秒, 2分10秒, 1小时5分."""
    if seconds is None:
        return _("无数据")
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d小时%(m)d分") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d分%(s)d秒") % {"m": minutes, "s": secs}
    return _("%(s)d秒") % {"s": secs}


def nearest_rank(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at
    or below it (p90 of ten values is the ninth smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


@dataclass
class AckTimes:
    """接警确认用时: from the report of an emergency to its acknowledgement, over a period."""

    told: int
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    unacknowledged: int

    @property
    def median_text(self) -> str:
        return duration_text(self.median_seconds)

    @property
    def p90_text(self) -> str:
        return duration_text(self.p90_seconds)


def ack_times(user: User, *, since: dt.datetime, until: dt.datetime) -> AckTimes:
    """Among the emergencies reported in [since, until) that were sent to someone on duty (or the
    leaders): how many were acknowledged, the median and the p90 (nearest rank) of the time from
    report to acknowledgement, and how many are still unacknowledged."""
    require_read(user)
    return _ack_times(street_records(user, Emergency.objects.all(), "community__street"), since=since, until=until)


def _ack_times(emergencies, *, since: dt.datetime, until: dt.datetime) -> AckTimes:
    told = emergencies.filter(reported_at__gte=since, reported_at__lt=until, events__data__has_key="told").distinct()
    reported = dict(told.values_list("pk", "reported_at"))
    acks: dict[int, dt.datetime] = {}
    for emergency_id, at in (
        EmergencyEvent.objects.filter(emergency_id__in=reported, action=ACK_ACTION)
        .order_by("at", "id")
        .values_list("emergency_id", "at")
    ):
        acks.setdefault(emergency_id, at)
    seconds = [max((at - reported[pk]).total_seconds(), 0.0) for pk, at in acks.items()]
    return AckTimes(
        told=len(reported),
        count=len(seconds),
        median_seconds=statistics.median(seconds) if seconds else None,
        p90_seconds=nearest_rank(seconds, 0.9),
        unacknowledged=len(reported) - len(seconds),
    )


ACK_WINDOW = dt.timedelta(days=30)


def ack_figures(user: User) -> list[tuple[str, str]]:
    """The operations page's line (消息发送): the acknowledgement times of the last 30 days."""
    now = timezone.now()
    times = ack_times(user, since=now - ACK_WINDOW, until=now)
    if not times.told:
        return [(_("突发事件接警确认（近30天）"), _("近30天没有需要确认的突发事件。"))]
    text = _("已确认 %(n)d 起，中位 %(median)s，90%% 在 %(p90)s 内；未确认 %(open)d 起。") % {
        "n": times.count,
        "median": duration_text(times.median_seconds),
        "p90": duration_text(times.p90_seconds),
        "open": times.unacknowledged,
    }
    return [(_("突发事件接警确认（近30天）"), text)]


def ack_median_seconds() -> float:
    """/metrics: the median acknowledgement time of the last 30 days, all streets (-1: none)."""
    now = timezone.now()
    times = _ack_times(Emergency.objects.all(), since=now - ACK_WINDOW, until=now)
    return -1.0 if times.median_seconds is None else float(times.median_seconds)


def unacknowledged_count() -> float:
    """/metrics: emergencies of the last 30 days told to someone on duty and not acknowledged."""
    now = timezone.now()
    return float(_ack_times(Emergency.objects.all(), since=now - ACK_WINDOW, until=now).unacknowledged)


def ack_states(emergencies: list[Emergency]) -> dict[int, dict]:
    """For the board, by emergency: ``ack`` (the time the acknowledgement took) once acknowledged;
    else ``waiting`` while someone was told, with ``leaders`` once the leaders were."""
    reported = {e.pk: e.reported_at for e in emergencies}
    found: dict[int, dict] = {}
    rows = EmergencyEvent.objects.filter(emergency_id__in=reported).filter(
        Q(action=ACK_ACTION) | Q(action__in=TOLD_ACTIONS, data__has_key="told")
    )
    for event in rows.order_by("at", "id").only("emergency_id", "action", "at", "data"):
        entry = found.setdefault(event.emergency_id, {"waiting": True, "leaders": False})
        if event.action == ACK_ACTION:
            seconds = max((event.at - reported[event.emergency_id]).total_seconds(), 0.0)
            entry.update(waiting=False, ack=duration_text(seconds))
        elif event.data["told"].get("leaders"):
            entry["leaders"] = True
    return found
