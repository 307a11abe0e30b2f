"""Every write of the evaluation app: results and rollups (through ``compute``), warnings,
rectification tasks (整改指令) and their events, evaluators' scored evidence, schemes.

A rectification task moves only through its lifecycle (``states.RECTIFICATIONS``): the role
first, from the permission table, before the task is looked up (403); then its state (409), the
responsible unit (403) and the note or evidence (422). Its events — the steps, the issue, and
what the worker records when the warning escalates or recovers — are written by the lifecycle.
A warning recovers by the worker's rule, never by a person (``assign_status``)."""

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from jiedao.cases.models import Category
from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.common.lifecycle import assign_status
from jiedao.geo.models import HEAT_DAYS
from jiedao.intelligence import selectors as intelligence
from jiedao.messaging.services import notify
from jiedao.org import permissions
from jiedao.org.models import Community, Grid, Street, Unit, User
from jiedao.workcal.calendar import SHANGHAI, add_workdays

from . import compute, periods
from . import indicators as lib
from .models import DailyCount, EvidenceScore, Rectification, Result, Scheme, SchemeItem, Snapshot, Warning
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
    if scope_kind == "street":
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
    for key, warning in active.items():
        if key not in seen:
            assign_status(warning, Warning.Status.RECOVERED)
            warning.recovered_at = now
            warning.save(update_fields=["status", "recovered_at"])
            recovered += 1
    hot = _hot_issue_warnings(now)
    return {"surges": opened, "surges_recovered": recovered, **hot}


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
            assign_status(warning, Warning.Status.RECOVERED)
            warning.recovered_at = now
            warning.save(update_fields=["status", "recovered_at"])
    return {"hot": opened}


# --- rectification tasks (整改指令) ------------------------------------------------------------


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
