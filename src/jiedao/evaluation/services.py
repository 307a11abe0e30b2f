"""Every write of the evaluation app: results and rollups (through ``compute``), warnings,
rectification tasks (整改指令) and their events, evaluators' scored evidence, schemes.

A rectification task moves only through its lifecycle (``states.RECTIFICATIONS``): the role
first, from the permission table, before the task is looked up (403); then its state (409), the
responsible unit (403) and the note or evidence (422). Its events — the steps, the issue, and
what the worker records when the warning escalates or recovers — are written by the lifecycle.
A warning recovers by the worker's rule, never by a person (``assign_status``)."""

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiedao.cases.models import Case, Category
from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.common.lifecycle import assign_status
from jiedao.emergency.models import Alert, Emergency, Rule
from jiedao.geo.models import HEAT_DAYS
from jiedao.hall.models import Application, ServiceItem
from jiedao.intelligence import selectors as intelligence
from jiedao.messaging import selectors as messaging
from jiedao.messaging.services import notify
from jiedao.ops import selectors as ops
from jiedao.ops.tasks import backup_task
from jiedao.org import permissions
from jiedao.org.models import Community, Grid, Street, Unit, User
from jiedao.workcal.calendar import SHANGHAI, add_workdays

from . import compute, periods
from . import indicators as lib
from .models import DailyCount, EvidenceScore, Rectification, Result, Scheme, SchemeItem, Snapshot, Warning
from .red import EMERGENCY_KEY, recover, red_warnings
from .scoring import MIN_WEIGHT_SHARE, resident_share, settings_of
from .selectors import hot_issue_rows, hot_snapshot_key
from .states import CLOSED, RECTIFICATIONS

logger = logging.getLogger("jiedao.worker")


def _config(name, default):
    return settings.JIEDAO.get(name, default)


# --- the periodic work -----------------------------------------------------------------------


def tick(now: dt.datetime | None = None) -> dict[str, int]:
    """What the worker does every few minutes: refresh the rollup of the last weeks, compute
    the current week, month, quarter and year (and the previous week and month, so that a
    period that just ended is final), check warnings on the last complete week and surges."""
    now = now or timezone.now()
    today = now.astimezone(SHANGHAI).date()
    compute.refresh_daily_counts(today - dt.timedelta(days=42), today + dt.timedelta(days=1))
    # The heat map counts today live and reads the rollup for the days before it.
    compute.refresh_heat_cells(today - dt.timedelta(days=HEAT_DAYS - 1), today)
    written = 0
    for kind in periods.KINDS:
        current = periods.of(kind, now)
        targets = [current.previous(), current] if kind in ("week", "month") else [current]
        for period in targets:
            written += compute.compute_period(period, now)
    last_week = periods.of("week", now).previous()
    changes = evaluate_indicator_warnings(last_week, now=now)
    surges = check_surges(now)
    store_hot_issues(now)
    return {"results": written, **changes, **surges}


def store_hot_issues(now: dt.datetime | None = None, *, limit: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Each street's hot issues as a snapshot for its cockpit (see ``selectors.hot_issues``)."""
    now = now or timezone.now()
    by_street = intelligence.hot_issues_by_street(now=now, limit=limit)
    stored = {}
    for street in Street.objects.all():
        rows = hot_issue_rows(by_street.get(street.pk, []))
        Snapshot.objects.update_or_create(key=hot_snapshot_key(street), defaults={"data": rows, "computed_at": now})
        stored[street.code] = rows
    return stored


# --- indicator warnings ----------------------------------------------------------------------

# The indicators watched for warnings (settings.JIEDAO["WARNING_INDICATORS"] overrides): the
# 三率, timeliness, and the resident-facing service measures of the other modules.
WATCHED = (
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "overdue_rate",
    "disposal_rate",
    "grid_completion_rate",
    "hall_satisfaction",
    "hall_wait_minutes",
    "emergency_on_time_rate",
    "visits_per_week",
    "adoption_rate",
)


def _below(indicator, value, baseline):
    if value is None or baseline is None:
        return False
    return value < baseline if indicator.direction == lib.HIGHER else value > baseline


def _responsible_unit(scope_kind, scope_code):
    if scope_kind == "unit":
        return Unit.objects.filter(code=scope_code).first()
    community = None
    if scope_kind == "community":
        community = Community.objects.filter(code=scope_code).first()
    elif scope_kind == "grid":
        community = Community.objects.filter(grids__code=scope_code).first()
    if community is not None:
        committee = Unit.objects.filter(kind=Unit.Kind.COMMUNITY, community=community, active=True).first()
        if committee is not None:
            return committee
    # Otherwise the default unit of the scope's street.
    streets = Street.objects.select_related("default_unit")
    if scope_kind == "street" and scope_code:
        street = streets.filter(code=scope_code).first()
    elif community is not None:
        street = streets.filter(pk=community.street_id).first()
    else:
        street = streets.order_by("pk").first()
    return street.default_unit if street else None


def _streaks(week, lookback=8):
    """{(indicator, scope kind, scope code): (weeks below baseline ending at ``week``, value, name, baseline)}.

    Only the scope kinds in ``WARNING_SCOPES`` (street, community, unit) are watched, and a week
    whose value rests on fewer than ``WARNING_MIN_CASES`` records does not count either way."""
    weeks = [week]
    for _i in range(lookback - 1):
        weeks.append(weeks[-1].previous())
    keys = [w.key for w in weeks]
    watched = _config("WARNING_INDICATORS", WATCHED)
    codes = [i.code for i in lib.INDICATORS if i.code in watched and settings_of(i)[0] is not None]
    scopes = _config("WARNING_SCOPES", ("street", "community", "unit"))
    minimum = _config("WARNING_MIN_CASES", 5)
    values = {}
    rows = Result.objects.filter(
        period_kind="week", period_key__in=keys, indicator__in=codes, scope_kind__in=scopes
    ).values_list("indicator", "scope_kind", "scope_code", "scope_name", "period_key", "value", "denominator")
    for code, kind, scope, name, key, value, denominator in rows:
        if denominator is not None and denominator < minimum:
            value = None
        values.setdefault((code, kind, scope), {"name": name, "by_week": {}})["by_week"][key] = value
    streaks = {}
    baselines = {code: settings_of(lib.get(code))[0] for code in codes}
    for (code, kind, scope), data in values.items():
        indicator = lib.get(code)
        count = 0
        for key in keys:
            if _below(indicator, data["by_week"].get(key), baselines[code]):
                count += 1
            else:
                break
        streaks[(code, kind, scope)] = (count, data["by_week"].get(week.key), data["name"], baselines[code])
    return streaks


@transaction.atomic
def evaluate_indicator_warnings(week: periods.Period, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Two consecutive weeks below baseline turn a scope yellow, three or more red, and issue
    a rectification task to the responsible unit; a week back at baseline recovers it."""
    now = now or timezone.now()
    opened = escalated = recovered = 0
    active = {
        w.key: w
        for w in Warning.objects.select_for_update().filter(kind=Warning.Kind.INDICATOR, status=Warning.Status.ACTIVE)
    }
    for (code, kind, scope), (count, value, name, baseline) in _streaks(week).items():
        key = f"{code}:{kind}:{scope}"
        warning = active.get(key)
        indicator = lib.get(code)
        if count >= 2:
            level = Warning.Level.RED if count >= 3 else Warning.Level.YELLOW
            if warning is None:
                warning = Warning.objects.create(
                    kind=Warning.Kind.INDICATOR,
                    key=key,
                    indicator=code,
                    scope_kind=kind,
                    scope_code=scope,
                    scope_name=name,
                    level=level,
                    weeks=count,
                    value=value,
                    baseline=baseline,
                    title=_("%(scope)s：%(indicator)s 连续 %(weeks)d 周未达基线")
                    % {"scope": name, "indicator": indicator.name, "weeks": count},
                    detail=_("截至 %(week)s") % {"week": week.key},
                    url=reverse("evaluation:indicator", args=[code]) + "?" + urlencode({"scope": kind}),
                    opened_at=now,
                    last_seen_at=now,
                )
                opened += 1
                unit = _responsible_unit(kind, scope)
                if unit is not None:
                    issue_rectification(
                        None,
                        warning=warning,
                        unit=unit,
                        title=warning.title,
                        requirement=_("请分析%(indicator)s未达基线（%(baseline)s）的原因，制定整改措施并提交佐证材料。")
                        % {"indicator": indicator.name, "baseline": _format(indicator, baseline)},
                        now=now,
                    )
            elif count > warning.weeks:
                was = warning.level
                warning.level, warning.weeks, warning.value, warning.last_seen_at = level, count, value, now
                warning.title = _("%(scope)s：%(indicator)s 连续 %(weeks)d 周未达基线") % {
                    "scope": name,
                    "indicator": indicator.name,
                    "weeks": count,
                }
                warning.detail = _("截至 %(week)s") % {"week": week.key}
                warning.save()
                if was != level:
                    escalated += 1
                    for task in warning.rectifications.exclude(status=CLOSED):
                        RECTIFICATIONS.record(task, "escalate", None, note=warning.title, at=now)
        elif warning is not None and count == 0 and value is not None:
            assign_status(warning, Warning.Status.RECOVERED)
            warning.recovered_at, warning.last_seen_at = now, now
            warning.value = value
            warning.save()
            recovered += 1
            for task in warning.rectifications.exclude(status=CLOSED):
                RECTIFICATIONS.record(
                    task, "recover", None, note=_("%(week)s 指标回到基线以上。") % {"week": week.key}, at=now
                )
    return {"opened": opened, "escalated": escalated, "recovered": recovered}


def _format(indicator, value):
    if value is None:
        return "—"
    if indicator.kind == "rate":
        return f"{value * 100:.1f}%"
    return f"{value:g}{indicator.unit}"


# --- surges (投诉激增) ------------------------------------------------------------------------


@transaction.atomic
def check_surges(now: dt.datetime | None = None) -> dict[str, int]:
    """A category's volume in a community over the last 7 days at least 3 times (a jump of
    200 % or more) its weekly average of the 4 weeks before, with at least ``SURGE_MIN_CASES``
    cases, raises a yellow warning; it recovers when the jump is over. Fast-growing hot
    issues (from the intelligence app) raise warnings the same way."""
    now = now or timezone.now()
    today = now.astimezone(SHANGHAI).date()
    recent_from = today - dt.timedelta(days=6)
    base_from = recent_from - dt.timedelta(days=28)
    minimum = _config("SURGE_MIN_CASES", 5)
    ratio = _config("SURGE_RATIO", 3.0)
    rows = DailyCount.objects.filter(
        day__gte=base_from, day__lte=today, community__isnull=False, category__isnull=False
    ).values_list("community_id", "category_id", "day", "received")
    recent: dict[tuple[int, int], int] = {}
    base: dict[tuple[int, int], int] = {}
    for community_id, category_id, day, n in rows:
        bucket = recent if day >= recent_from else base
        bucket[(community_id, category_id)] = bucket.get((community_id, category_id), 0) + n
    surging = {}
    for pair, count in recent.items():
        weekly = base.get(pair, 0) / 4
        if count >= minimum and count >= ratio * weekly:
            surging[pair] = (count, weekly)
    active = {
        w.key: w
        for w in Warning.objects.select_for_update().filter(kind=Warning.Kind.SURGE, status=Warning.Status.ACTIVE)
    }
    communities = {c.pk: c for c in Community.objects.filter(pk__in={k[0] for k in surging})}
    categories = {c.pk: c for c in Category.objects.filter(pk__in={k[1] for k in surging})}
    opened = recovered = 0
    seen = set()
    for (community_id, category_id), (count, weekly) in surging.items():
        community, category = communities[community_id], categories[category_id]
        key = f"{community.code}:{category.code}"
        seen.add(key)
        detail = _("近7天 %(count)d 件，前4周平均每周 %(weekly).1f 件") % {"count": count, "weekly": weekly}
        warning = active.get(key)
        if warning is None:
            Warning.objects.create(
                kind=Warning.Kind.SURGE,
                key=key,
                scope_kind="community",
                scope_code=community.code,
                scope_name=community.name,
                level=Warning.Level.YELLOW,
                value=count,
                baseline=weekly,
                title=_("%(community)s“%(category)s”投诉激增")
                % {"community": community.name, "category": category.name},
                detail=detail,
                category=category,
                community=community,
                opened_at=now,
                last_seen_at=now,
                url=reverse("evaluation:records")
                + "?"
                + urlencode({"community": community.code, "category": category.code, "since": recent_from.isoformat()}),
            )
            opened += 1
        else:
            warning.value, warning.detail, warning.last_seen_at = count, detail, now
            warning.save(update_fields=["value", "detail", "last_seen_at"])
    hall_opened = _hall_surges(now, active, seen, recent_from=recent_from, minimum=minimum, ratio=ratio)
    for key, warning in active.items():
        if key not in seen:
            recover(warning, now)
            recovered += 1
    hot = _hot_issue_warnings(now)
    system = _system_warnings(now)
    red = red_warnings(now)
    tasks = warning_rectifications(now)
    return {"surges": opened + hall_opened, "surges_recovered": recovered, **hot, **system, **red, **tasks}


HALL_SURGE_PREFIX = "hall:"


def _hall_surges(now, active, seen, *, recent_from, minimum, ratio):
    """The same rule for the service hall: a service item's applications (window and online,
    by the day they were submitted) over the last 7 days at least ``SURGE_MIN_CASES`` and
    ``SURGE_RATIO`` times the weekly average of the 4 weeks before raise a yellow warning on
    the street of the item's unit, and the unit is told once, when it opens. Adds the keys
    still surging to ``seen``; returns how many were opened."""
    base_from = recent_from - dt.timedelta(days=28)
    since = dt.datetime.combine(base_from, dt.time(0, 0), tzinfo=SHANGHAI)
    recent: dict[int, int] = {}
    base: dict[int, int] = {}
    rows = Application.objects.filter(item__isnull=False, submitted_at__gte=since, submitted_at__lte=now)
    for item_id, submitted_at in rows.values_list("item_id", "submitted_at").iterator():
        bucket = recent if submitted_at.astimezone(SHANGHAI).date() >= recent_from else base
        bucket[item_id] = bucket.get(item_id, 0) + 1
    surging = {}
    for item_id, count in recent.items():
        weekly = base.get(item_id, 0) / 4
        if count >= minimum and count >= ratio * weekly:
            surging[item_id] = (count, weekly)
    opened = 0
    for item in ServiceItem.objects.filter(pk__in=surging).select_related("unit__street"):
        count, weekly = surging[item.pk]
        key = f"{HALL_SURGE_PREFIX}{item.code}"[:160]
        seen.add(key)
        detail = _("近7天 %(count)d 件申请，前4周平均每周 %(weekly).1f 件") % {"count": count, "weekly": weekly}
        warning = active.get(key)
        if warning is not None:
            warning.value, warning.detail, warning.last_seen_at = count, detail, now
            warning.save(update_fields=["value", "detail", "last_seen_at"])
            continue
        street = item.unit.street
        title = _("一窗受理“%(item)s”申请激增") % {"item": item.name}
        url = reverse("hall:item", args=[item.code])
        Warning.objects.create(
            kind=Warning.Kind.SURGE,
            key=key,
            scope_kind="street",
            scope_code=street.code,
            scope_name=street.name,
            level=Warning.Level.YELLOW,
            value=count,
            baseline=weekly,
            title=title[:200],
            detail=detail,
            opened_at=now,
            last_seen_at=now,
            url=url,
        )
        notify(
            unit=item.unit,
            kind="surge",
            message=_("%(title)s：%(detail)s。请安排窗口人手、预约号源，必要时调整办理指引。")
            % {"title": title, "detail": detail},
            link=url,
            at=now,
        )
        opened += 1
    return opened


def _admins() -> list[int]:
    """The administrators (the group, and the superusers) who are told of a system fault."""
    found = User.objects.filter(is_active=True).filter(Q(groups__name="admin") | Q(is_superuser=True))
    return list(found.values_list("pk", flat=True).distinct())


@dataclass(frozen=True)
class BlueCheck:
    """One blue warning (系统故障): its key, its title, what the administrators are asked to do,
    the page where it is seen to, and ``check(now)``, which answers ``(value, detail)`` while the
    fault lasts and None when all is well."""

    key: str
    title: Any
    advice: Any
    page: str
    check: Callable[[dt.datetime], tuple[float, str] | None]


def _failed_sends(now):
    failed = messaging.unresolved_failures(now=now)
    if not failed:
        return None
    return failed, _("近7天有 %(n)d 条消息多次重试仍发送失败，收件人没有收到。") % {"n": failed}


def _stalled_worker(now):
    """The worker's heartbeat older than ``WORKER_LATE_SECONDS`` (as /healthz judges it). A worker
    never seen is not stalled: ``jiedao check`` reports an installation whose worker never ran."""
    seen = ops.worker_seen_seconds(now)
    limit = float(_config("WORKER_LATE_SECONDS", 180))
    if seen is None or seen <= limit:
        return None
    return round(seen / 60, 1), _("后台任务已 %(minutes)d 分钟没有心跳（超过 %(limit)d 秒即视为停滞）。") % {
        "minutes": int(seen // 60),
        "limit": int(limit),
    }


def _backup_trouble(now):
    """With scheduled backups on (``BACKUP_EVERY_HOURS`` > 0): the latest scheduled backup failed,
    or the newest backup is missing or older than a day (or than two intervals, when backups
    are scheduled less often than every 12 hours)."""
    every = float(_config("BACKUP_EVERY_HOURS", 0) or 0)
    if every <= 0:
        return None
    last = (
        DBTaskResult.objects.filter(task_path=backup_task.module_path)
        .exclude(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        .order_by("-enqueued_at")
        .values_list("status", flat=True)
        .first()
    )
    if last == TaskResultStatus.FAILED:
        return 0.0, _("最近一次自动备份失败。")
    age = ops.newest_backup_age_hours(now)
    allowed = max(24.0, 2 * every)
    if age is None:
        return 0.0, _("还没有任何备份。")
    if age > allowed:
        return round(age, 1), _("最近一次备份是 %(hours)d 小时前（超过 %(allowed)d 小时）。") % {
            "hours": round(age),
            "allowed": int(allowed),
        }
    return None


def _full_disk(now):
    """The disk holding the data directory below ``DISK_MIN_FREE_BYTES`` free (as /healthz judges it)."""
    disk = ops.health(now)["checks"]["disk"]
    if disk["ok"]:
        return None
    free = disk["free_bytes"] / (1 << 30)
    return round(free, 2), _("数据所在磁盘只剩 %(free).2f GB 可用（至少需要 %(minimum).2f GB）。") % {
        "free": free,
        "minimum": disk["min_free_bytes"] / (1 << 30),
    }


def _silent_devices(now):
    """The sensors whose silence the emergency app's rules (判断方式“离线”) raised an alert for,
    still open and still silent: nothing received from the device since the alert."""
    alerts = Alert.objects.filter(
        status=Alert.Status.OPEN, rule__trigger=Rule.Trigger.SILENCE, device__isnull=False
    ).filter(Q(device__last_seen_at__isnull=True) | Q(device__last_seen_at__lte=F("raised_at")))
    names = list(alerts.order_by("device__name").values_list("device__name", flat=True).distinct())
    if not names:
        return None
    shown = "、".join(names[:5]) + ("…" if len(names) > 5 else "")
    return len(names), _("%(n)d 台感知设备离线：%(names)s。") % {"n": len(names), "names": shown}


BLUE_CHECKS = (
    BlueCheck(
        "system:outbox",
        gettext_lazy("系统故障：消息发送失败"),
        gettext_lazy("请到“消息发送”页查看服务商的答复并重新发送。"),
        "messaging:outbox",
        _failed_sends,
    ),
    BlueCheck(
        "system:worker",
        gettext_lazy("系统故障：后台任务停滞"),
        gettext_lazy("时限巡检、通知和备份都在等它：请检查服务器上的后台任务是否在运行。"),
        "evaluation:warnings",
        _stalled_worker,
    ),
    BlueCheck(
        "system:backup",
        gettext_lazy("系统故障：备份失败或过期"),
        gettext_lazy("请检查备份目录和自动备份的日志，并手动备份一次。"),
        "evaluation:warnings",
        _backup_trouble,
    ),
    BlueCheck(
        "system:disk",
        gettext_lazy("系统故障：磁盘空间不足"),
        gettext_lazy("请清理或扩充数据所在的磁盘，空间不足时新的照片、备份都写不进去。"),
        "evaluation:warnings",
        _full_disk,
    ),
    BlueCheck(
        "system:devices",
        gettext_lazy("系统故障：感知设备离线"),
        gettext_lazy("请到“感知设备”页查看离线设备，安排上门检查供电和网络。"),
        "emergency:devices",
        _silent_devices,
    ),
)


def _system_warnings(now):
    """The blue warnings (系统故障), one per check of ``BLUE_CHECKS``: opened once when its check
    finds a fault (the administrators are told, once per opening), kept up to date while the fault
    lasts, recovered when it is gone. Its rectification task goes to the unit answering for the
    installation (``warning_rectifications``)."""
    active = {
        w.key: w
        for w in Warning.objects.select_for_update().filter(kind=Warning.Kind.SYSTEM, status=Warning.Status.ACTIVE)
    }
    counts = {"system": 0, "system_recovered": 0}
    for blue in BLUE_CHECKS:
        found = blue.check(now)
        warning = active.get(blue.key)
        if found is None:
            if warning is not None:
                recover(warning, now)
                counts["system_recovered"] += 1
            continue
        value, detail = found
        if warning is not None:
            warning.value, warning.detail, warning.last_seen_at = value, detail[:300], now
            warning.save(update_fields=["value", "detail", "last_seen_at"])
            continue
        url = reverse(blue.page)
        Warning.objects.create(
            kind=Warning.Kind.SYSTEM,
            key=blue.key,
            scope_kind="street",
            level=Warning.Level.BLUE,
            value=value,
            title=str(blue.title),
            detail=detail[:300],
            url=url,
            opened_at=now,
            last_seen_at=now,
        )
        notify(
            kind="system",
            users=_admins(),
            message=_("%(title)s。%(detail)s%(advice)s")
            % {"title": blue.title, "detail": detail, "advice": blue.advice},
            link=url,
            at=now,
        )
        counts["system"] += 1
    return {k: v for k, v in counts.items() if v}


def _hot_issue_warnings(now):
    issues = list(intelligence.fast_growing_hot_issues(now=now))
    active = {w.key: w for w in Warning.objects.filter(kind=Warning.Kind.HOT, status=Warning.Status.ACTIVE)}
    opened, seen = 0, set()
    for issue in issues:
        key = f"hot:{issue.key}"[:160]
        seen.add(key)
        if key in active:
            continue
        community = getattr(issue, "community", None)
        Warning.objects.create(
            kind=Warning.Kind.HOT,
            key=key,
            scope_kind="community" if community else "street",
            scope_code=community.code if community else "",
            scope_name=community.name if community else "",
            level=Warning.Level.YELLOW,
            value=issue.count,
            title=_("热点问题快速增长：%(title)s") % {"title": issue.title},
            detail=_("%(count)d 件，%(reporters)d 位诉求人") % {"count": issue.count, "reporters": issue.reporters},
            community=community,
            category=getattr(issue, "category", None),
            url=issue.url or "",
            opened_at=now,
            last_seen_at=now,
        )
        opened += 1
    for key, warning in active.items():
        if key not in seen:
            recover(warning, now)
    return {"hot": opened}


# --- rectification tasks (整改指令) ------------------------------------------------------------


def _system_unit(warning):
    """Who answers for the installation: the unit ``JIEDAO["SYSTEM_UNIT"]`` names (its code),
    else the street's default unit."""
    code = str(_config("SYSTEM_UNIT", "") or "")
    unit = Unit.objects.filter(code=code, active=True).first() if code else None
    return unit or _responsible_unit("street", warning.scope_code)


def _sensitive_unit(warning):
    """A flagged case: its unit (the street's default unit before it is dispatched); a flagged
    emergency: its lead unit, else the community's committee or the street's default unit."""
    if warning.key.startswith(EMERGENCY_KEY):
        emergency = Emergency.objects.filter(number=warning.key.removeprefix(EMERGENCY_KEY)).first()
        if emergency is not None and emergency.lead_unit_id:
            return emergency.lead_unit
    else:
        case = Case.objects.filter(number=warning.key.removeprefix("sensitive:")).select_related("unit").first()
        if case is not None and case.unit_id:
            return case.unit
    return _responsible_unit(warning.scope_kind, warning.scope_code)


def _surge_unit(warning):
    """A service item's surge: the item's unit; a category's surge in a community: its committee."""
    if warning.key.startswith(HALL_SURGE_PREFIX):
        item = (
            ServiceItem.objects.filter(code=warning.key.removeprefix(HALL_SURGE_PREFIX)).select_related("unit").first()
        )
        return item.unit if item is not None else None
    return _responsible_unit(warning.scope_kind, warning.scope_code)


def _scope_unit(warning):
    return _responsible_unit(warning.scope_kind, warning.scope_code)


@dataclass(frozen=True)
class WarningTask:
    """What a warning of one kind opens (整改指令): to whom, and what is asked of them."""

    unit: Callable[[Warning], Unit | None]
    requirement: Any


# The indicator warnings open their task themselves, with the indicator and its baseline.
WARNING_TASKS = {
    Warning.Kind.SURGE: WarningTask(
        _surge_unit, gettext_lazy("请排查数量激增的原因，采取措施（排查源头、调配人手、发布提示）并提交佐证材料。")
    ),
    Warning.Kind.HOT: WarningTask(
        _scope_unit, gettext_lazy("请研判这一热点问题，组织相关单位联合处置，并提交处置情况和佐证材料。")
    ),
    Warning.Kind.HOT_LARGE: WarningTask(
        _scope_unit, gettext_lazy("热点问题已达红色预警：请制定处置方案，主要负责人跟进，并提交处置报告。")
    ),
    Warning.Kind.SENSITIVE: WarningTask(
        _sensitive_unit, gettext_lazy("请做好舆情或群体事件的处置和信息报送，稳控事态，并提交处置报告。")
    ),
    Warning.Kind.SYSTEM: WarningTask(
        _system_unit, gettext_lazy("请排除系统故障、恢复正常运行，说明原因和防范措施，并提交佐证材料。")
    ),
}


def warning_rectifications(now: dt.datetime) -> dict[str, int]:
    """Every active warning of a kind in ``WARNING_TASKS`` without a task gets one (issued to the
    kind's unit, which is told); a task whose warning has recovered gets a "recover" step on its
    timeline, once (the unit still submits its evidence and the evaluator closes it)."""
    opened = recovered = 0
    waiting = Warning.objects.filter(
        status=Warning.Status.ACTIVE, kind__in=list(WARNING_TASKS), rectifications__isnull=True
    ).order_by("opened_at", "pk")
    for warning in waiting:
        rule = WARNING_TASKS[Warning.Kind(warning.kind)]
        unit = rule.unit(warning)
        if unit is None:
            continue
        issue_rectification(
            None, warning=warning, unit=unit, title=warning.title, requirement=str(rule.requirement), now=now
        )
        opened += 1
    over = (
        Rectification.objects.filter(warning__status=Warning.Status.RECOVERED, warning__kind__in=list(WARNING_TASKS))
        .exclude(status=CLOSED)
        .exclude(events__action="recover")
        .select_related("warning")
    )
    for task in over:
        title = task.warning.title if task.warning is not None else task.title
        RECTIFICATIONS.record(task, "recover", None, note=_("预警已解除：%(title)s") % {"title": title}, at=now)
        recovered += 1
    return {k: v for k, v in {"tasks": opened, "tasks_recovered": recovered}.items() if v}


def _next_number(now):
    day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    prefix = f"ZG{day}"
    last = (
        Rectification.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{(int(last[-3:]) + 1 if last else 1):03d}"


@transaction.atomic
def issue_rectification(
    actor: User | None,
    *,
    unit: Unit,
    title: str,
    requirement: str,
    warning: Warning | None = None,
    workdays: int | None = None,
    now: dt.datetime | None = None,
) -> Rectification:
    """Issue a task to ``unit``. ``actor`` None is the worker (a warning); a person must be an evaluator,
    leader or administrator."""
    now = now or timezone.now()
    if actor is not None:
        permissions.require(
            actor, "evaluation.rectification.issue", _("只有考核评估员、街道领导或管理员可以下达整改指令。")
        )
    if actor is not None and actor.street_ids is not None and unit.street_id not in actor.street_ids:
        raise NotAllowed(_("只能向本街道的承办单位下达整改指令。"))
    title = (title or "").strip()
    requirement = (requirement or "").strip()
    if not title:
        raise ValidationFailed("title", _("请填写整改事项。"))
    if not requirement:
        raise ValidationFailed("requirement", _("请填写整改要求。"))
    workdays = workdays or _config("RECTIFICATION_WORKDAYS", 10)
    due_day = add_workdays(now.astimezone(SHANGHAI).date(), workdays)
    due = dt.datetime.combine(due_day, dt.time(18, 0), tzinfo=SHANGHAI)
    task = Rectification.objects.create(
        number=_next_number(now),
        warning=warning,
        unit=unit,
        title=title[:200],
        requirement=requirement,
        due_at=due,
        issued_at=now,
    )
    RECTIFICATIONS.record(task, "issue", actor, before="", note=requirement, at=now)
    notify(
        unit=unit,
        kind="rectification",
        message=_("整改指令 %(number)s：%(title)s，请于 %(due)s 前完成并提交佐证。")
        % {"number": task.number, "title": title, "due": due_day.isoformat()},
    )
    return task


@transaction.atomic
def act_on_rectification(
    actor: User, *, number: str, action: str, evidence: str = "", note: str = "", now: dt.datetime | None = None
) -> Rectification:
    """One step of the task's lifecycle (``states.RECTIFICATIONS``): ``accept``, ``submit`` (with
    its ``evidence``), ``approve``, ``reject`` (with the reason in ``note``). Any other action is
    bad input (422 on ``action``)."""
    now = now or timezone.now()
    transition = RECTIFICATIONS.get(action)
    permissions.require(actor, f"{RECTIFICATIONS.permission_prefix}.{action}")
    task = Rectification.objects.select_for_update(of=("self",)).select_related("unit").filter(number=number).first()
    if task is None:
        raise NotFound(_("整改指令 %(number)s 不存在。") % {"number": number})
    evidence, note = (evidence or "").strip(), (note or "").strip()
    # A submission's note is its evidence (the table's ``note_field``), kept on the task.
    with_evidence = transition.note_field == "evidence"
    text = evidence if with_evidence else note
    checked = RECTIFICATIONS.check(actor, task, action, text)
    if with_evidence:
        task.evidence = evidence
    RECTIFICATIONS.take(
        actor, task, action, note=text, at=now, checked=checked, save_fields=("evidence",) if with_evidence else ()
    )
    return task


# --- evidence-based scores (创新指数) -----------------------------------------------------------


@transaction.atomic
def enter_evidence_score(
    actor: User,
    *,
    scope_kind: str,
    scope_code: str,
    month: str,
    score: float | str | None,
    evidence: str,
    indicator: str = "innovation_index",
    now: dt.datetime | None = None,
) -> EvidenceScore:
    permissions.require(actor, "evaluation.score", _("只有考核评估员可以录入评分。"))
    models_by_kind: dict[str, type[Community | Grid | Unit]] = {"community": Community, "grid": Grid, "unit": Unit}
    if scope_kind not in models_by_kind:
        raise ValidationFailed("scope_kind", _("评分对象应为社区、网格或承办单位。"))
    if not models_by_kind[scope_kind].objects.filter(code=scope_code).exists():
        raise ValidationFailed("scope_code", _("评分对象“%(code)s”不存在。") % {"code": scope_code})
    periods.parse(month, "month")
    try:
        score = float(score)  # type: ignore[arg-type]  # None (no score sent) raises TypeError: refused below
    except (TypeError, ValueError):
        raise ValidationFailed("score", _("得分应为 0 到 100 之间的数字。")) from None
    if not 0 <= score <= 100:
        raise ValidationFailed("score", _("得分应为 0 到 100 之间的数字。"))
    evidence = (evidence or "").strip()
    if len(evidence) < 4:
        raise ValidationFailed("evidence", _("请填写佐证材料（做法、成效、来源），评分必须有据可查。"))
    row = EvidenceScore.objects.create(
        indicator=indicator,
        scope_kind=scope_kind,
        scope_code=scope_code,
        month=month,
        score=score,
        evidence=evidence,
        entered_by=actor,
        entered_at=now or timezone.now(),
    )
    compute.compute_period(periods.parse(month, "month"), codes=[indicator])
    return row


# --- schemes ---------------------------------------------------------------------------------


def check_scheme_items(items: Sequence[tuple[str, float | None]]) -> None:
    """``items``: [(indicator code, weight)]. Known indicators, positive weights, and resident
    evaluation carrying at least half of the weight."""
    if not items:
        raise ValidationFailed("items", _("方案至少要有一个指标。"))
    for code, weight in items:
        if lib.get(code) is None:
            raise ValidationFailed("items", _("指标“%(code)s”不在指标库中。") % {"code": code})
        if weight is None or weight <= 0:
            raise ValidationFailed("items", _("指标“%(code)s”的权重应大于 0。") % {"code": code})
    if resident_share(items) < MIN_WEIGHT_SHARE:
        raise ValidationFailed("items", _("群众评价（满意率、解决率、好差评）的权重合计应不少于一半。"))


@transaction.atomic
def define_scheme(
    actor: User,
    *,
    code: str,
    name: str,
    items: Sequence[tuple[str, float, str]],
    normalisation: str = "target",
    excellent_from: float = 90,
    pass_from: float = 60,
    description: str = "",
) -> Scheme:
    """Create or replace a scheme. ``items``: [(indicator code, weight, perspective)]."""
    permissions.require(actor, "evaluation.scheme", _("只有管理员或考核评估员可以定义考核方案。"))
    check_scheme_items([(c, w) for c, w, _p in items])
    if not pass_from < excellent_from:
        raise ValidationFailed("excellent_from", _("优秀分数线应高于合格分数线。"))
    scheme, _created = Scheme.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "normalisation": normalisation,
            "excellent_from": excellent_from,
            "pass_from": pass_from,
            "description": description,
        },
    )
    scheme.items.all().delete()
    SchemeItem.objects.bulk_create(
        [SchemeItem(scheme=scheme, indicator=c, weight=w, perspective=p) for c, w, p in items]
    )
    return scheme
