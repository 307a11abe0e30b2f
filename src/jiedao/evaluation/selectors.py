"""Every read of the evaluation app. Pages, the API, the report and the cockpit call these,
so a figure is the same wherever it is shown. Pages read results and rollups, not cases
(the live counters are three indexed counts)."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from jiedao.cases.models import NOT_MATTERS, OPEN_STATUSES, Case, Category
from jiedao.cases.selectors import LIST_FIELDS, overdue_cases, street_backlog, visible_cases
from jiedao.common import params
from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.intelligence import selectors as intelligence
from jiedao.org.models import Community, Grid, Street, Unit
from jiedao.org.selectors import in_streets
from jiedao.workcal.calendar import SHANGHAI, start_of_day

from . import indicators as lib
from . import periods, scoring, states
from .models import DailyCount, EvidenceScore, Rectification, Result, Scheme, ScopeKind, Snapshot, Warning
from .states import RECTIFICATIONS

VIEW_ROLES = ("leader", "evaluator", "admin", "district")
SCOPE_KINDS = [k for k, _label in ScopeKind.choices]


def may_view(user):
    return user is not None and user.is_authenticated and user.has_role(*VIEW_ROLES)


def require_view(user):
    if not may_view(user):
        raise NotAllowed(_("只有街道领导、考核评估员、管理员和区级用户可以查看效能评价。"))


# --- which street -------------------------------------------------------------------------------


def streets_of(user):
    """The streets whose figures ``user`` may look at, by code."""

    qs = Street.objects.order_by("code")
    ids = user.street_ids
    return list(qs if ids is None else qs.filter(pk__in=ids))


def street_for(user, code=None):
    """The street whose figures ``user`` looks at: their own; a district user picks one of
    their district's streets by ``code`` (default: the first by code)."""
    require_view(user)
    streets = streets_of(user)
    if code:
        for street in streets:
            if street.code == code:
                return street
        raise NotFound(_("街道 %(code)s 不存在或不在您的查看范围内。") % {"code": code})
    if not streets:
        raise NotAllowed(_("您的账号没有所属街道，请管理员在用户管理中设置。"))
    return streets[0]


def _chosen(user, street):
    """``street`` as given (a Street the caller already chose with ``street_for``), or by code."""
    return street if hasattr(street, "code") else street_for(user, street)


def scope_codes(street, kind):
    """The codes of the scopes of ``kind`` inside ``street``."""
    return _codes_in([street], kind)


def _codes_in(streets, kind):
    """The codes of the scopes of ``kind`` inside any of ``streets`` (one query)."""

    ids = [street.pk for street in streets]
    if kind == "street":
        return {street.code for street in streets}
    if kind == "community":
        return set(Community.objects.filter(street_id__in=ids).values_list("code", flat=True))
    if kind == "grid":
        return set(Grid.objects.filter(community__street_id__in=ids).values_list("code", flat=True))
    if kind == "unit":
        return set(Unit.objects.filter(street_id__in=ids).values_list("code", flat=True))
    if kind == "person":
        return set(get_user_model().objects.filter(street_id__in=ids).values_list("username", flat=True))
    return set()


def in_scopes(streets, kinds=None):
    """A filter on (scope_kind, scope_code) rows keeping those inside ``streets``."""
    condition = Q(pk__in=[])
    for kind in kinds or SCOPE_KINDS:
        condition |= Q(scope_kind=kind, scope_code__in=sorted(_codes_in(streets, kind)))
    return condition


def may_see_rectifications(user):
    return may_view(user) or (user.is_authenticated and user.has_role("handler") and user.unit_id is not None)


# --- the library --------------------------------------------------------------------------------


def indicator_out(indicator, latest=None):
    baseline, target = scoring.settings_of(indicator)
    computable = indicator.computable()
    return {
        "code": indicator.code,
        "name": str(indicator.name),
        "family": str(indicator.family),
        "definition": str(indicator.definition),
        "selector": indicator.source,
        "unit": str(indicator.unit),
        "kind": indicator.kind,
        "direction": indicator.direction,
        "baseline": baseline,
        "target": target,
        "scopes": list(indicator.scopes),
        "resident": indicator.resident,
        "computable": computable,
        "status": "ok" if computable else "not_computable",
        "status_label": "" if computable else _("尚不可计算"),
        "note": str(indicator.note),
        "latest": latest,
    }


def indicator_list(user, period=None, street=None):
    """Every indicator with its street value for ``period`` (default the current month)."""
    street_row = _chosen(user, street)
    period = period or periods.of("month")
    street = dict(
        Result.objects.filter(
            period_kind=period.kind, period_key=period.key, scope_kind="street", scope_code=street_row.code
        ).values_list("indicator", "value")
    )
    rows = []
    for indicator in lib.INDICATORS:
        row = indicator_out(indicator, latest=street.get(indicator.code) if indicator.computable() else None)
        row["display"] = display(indicator, row["latest"]) if row["computable"] else row["status_label"]
        row["display_target"] = display(indicator, row["target"])
        row["display_baseline"] = display(indicator, row["baseline"])
        row["scope_labels"] = " / ".join(str(label) for kind, label in ScopeKind.choices if kind in indicator.scopes)
        rows.append(row)
    return rows


def indicator_for(user, code):
    require_view(user)
    indicator = lib.get(code)
    if indicator is None:
        raise NotFound(_("指标 %(code)s 不存在。") % {"code": code})
    return indicator


def display(indicator, value):
    """A value as people read it: rates in %, amounts with their unit, "—" without data."""
    if value is None:
        return "—"
    if indicator.kind == "rate":
        return f"{value * 100:.1f}%"
    if indicator.kind == "count":
        return f"{value:.0f}"
    return f"{value:.1f}"


def _parse_scope(scope):
    """'community' or 'community:CODE' → (kind, code or None)."""
    kind, _sep, code = (scope or "street").partition(":")
    if kind not in SCOPE_KINDS:
        raise ValidationFailed(
            "scope", _("范围应为 street、community、grid、unit 或 person（可写成 community:代码）。")
        )
    return kind, (code or None)


def values(user, code, scope="street", period="month", last=12, now=None, street=None):
    """Values of an indicator. ``period`` is a key (2026-10, 2026-W44, 2026-Q4, 2026: that period, every
    scope of the kind) or a kind (month …: the last ``last`` periods). Not computable → no rows.
    Only the scopes of the viewer's street (``street``: a district user's choice) are returned."""
    indicator = indicator_for(user, code)
    street = _chosen(user, street)
    kind, scope_code = _parse_scope(scope)
    if kind not in indicator.scopes:
        raise ValidationFailed("scope", _("指标“%(name)s”不适用于该范围。") % {"name": indicator.name})
    if period in periods.KINDS:
        if not 1 <= int(last) <= 120:
            raise ValidationFailed("last", _("last 应在 1 到 120 之间。"))
        wanted = periods.recent(period, int(last), now)
    else:
        wanted = [periods.parse(period)]
    qs = Result.objects.filter(
        indicator=code, scope_kind=kind, period_kind=wanted[0].kind, period_key__in=[p.key for p in wanted]
    )
    if scope_code is not None:
        qs = qs.filter(scope_code=scope_code)
    qs = qs.filter(scope_code__in=sorted(scope_codes(street, kind)))
    order = {p.key: i for i, p in enumerate(wanted)}
    rows = sorted(
        qs.values(
            "period_kind",
            "period_key",
            "scope_kind",
            "scope_code",
            "scope_name",
            "value",
            "numerator",
            "denominator",
            "computed_at",
        ),
        key=lambda r: (order[r["period_key"]], r["scope_code"]),
    )
    for row in rows:
        row["display"] = display(indicator, row["value"])
    return {"indicator": indicator_out(indicator), "periods": [p.key for p in wanted], "values": rows}


# --- rankings -----------------------------------------------------------------------------------


def schemes():
    return list(Scheme.objects.filter(active=True).prefetch_related("items"))


def scheme_for(code=None):
    qs = Scheme.objects.filter(active=True).prefetch_related("items")
    scheme = qs.filter(code=code).first() if code else qs.first()
    if scheme is None:
        raise NotFound(_("考核方案 %(code)s 不存在。") % {"code": code})
    return scheme


def rankings(user, scheme=None, period=None, scope="community", street=None):
    """A scheme's ranking of the communities, units or grids of the viewer's street; ``street``
    scope ranks the streets a district user sees (街道排名). A staff scheme (``person_role``) ranks
    the active people of that role in the street (``person``), whatever scope was asked."""
    require_view(user)
    scheme = scheme if isinstance(scheme, Scheme) else scheme_for(scheme)
    if scheme.person_role:
        scope = "person"
    elif scope not in ("community", "unit", "grid", "street"):
        raise ValidationFailed("scope", _("排名对象应为社区、承办单位、网格或街道。"))
    period = periods.parse(period) if isinstance(period, str) and period else (period or periods.of("month"))
    if scope == "street":
        codes = {s.code for s in streets_of(user)}
    elif scope == "person":
        chosen = _chosen(user, street)
        # A person of the street: by their own street, or (none recorded) their unit's or grids'.
        of_street = Q(street=chosen) | Q(street__isnull=True) & (
            Q(unit__street=chosen) | Q(grids__community__street=chosen)
        )
        people = get_user_model().objects.filter(of_street, groups__name=scheme.person_role, is_active=True)
        codes = set(people.values_list("username", flat=True))
    else:
        codes = scope_codes(_chosen(user, street), scope)
    rows = scoring.ranking(scheme, period, scope, codes=codes)
    return {
        "scheme": {
            "code": scheme.code,
            "name": scheme.name,
            "normalisation": scheme.normalisation,
            "excellent_from": scheme.excellent_from,
            "pass_from": scheme.pass_from,
            "person_role": scheme.person_role,
            "person_role_label": str(scheme.get_person_role_display()) if scheme.person_role else "",
            "items": [
                {
                    "indicator": i.indicator,
                    "weight": i.weight,
                    "perspective": i.perspective,
                    "label": i.label or str(lib.get(i.indicator).name if lib.get(i.indicator) else ""),
                }
                for i in scheme.items.all()
            ],
        },
        "period": period.key,
        "previous_period": period.previous().key,
        "scope": scope,
        "rows": [r.as_dict() for r in rows],
    }


THREE_RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "three_rate_composite")


def _street_rates(period, streets):
    rows = Result.objects.filter(
        period_kind=period.kind,
        period_key=period.key,
        scope_kind="street",
        scope_code__in=[s.code for s in streets],
        indicator__in=THREE_RATES,
    ).values_list("scope_code", "indicator", "value")
    rates = {s.code: {} for s in streets}
    for code, indicator, value in rows:
        rates[code][indicator] = value
    order = sorted(
        rates,
        key=lambda c: (rates[c].get("three_rate_composite") is None, -(rates[c].get("three_rate_composite") or 0), c),
    )
    ranks, position = {}, 0
    for code in order:
        if rates[code].get("three_rate_composite") is not None:
            position += 1
            ranks[code] = position
    return rates, order, ranks


def street_ranking(user, period=None):
    """街道排名 — the monthly 三率 of every street the user sees (a district user: their
    district's), by composite, with the rank of the month before."""
    require_view(user)
    period = periods.parse(period, "month") if isinstance(period, str) and period else (period or periods.of("month"))
    if period.kind != "month":
        raise ValidationFailed("period", _("街道排名按月计算，请填写月份，如 2026-10。"))
    streets = streets_of(user)
    names = {s.code: s.name for s in streets}
    rates, order, ranks = _street_rates(period, streets)
    _before, _order, before_ranks = _street_rates(period.previous(), streets)
    rows = []
    for code in order:
        values = rates[code]
        rank, previous = ranks.get(code), before_ranks.get(code)
        rows.append(
            {
                "street": code,
                "name": names[code],
                "rank": rank,
                "previous_rank": previous,
                "change": previous - rank if rank is not None and previous is not None else None,
                **{key: values.get(key) for key in THREE_RATES},
                **{f"{key}_display": display(lib.get(key), values.get(key)) for key in THREE_RATES},
                "url": reverse("evaluation:cockpit") + "?" + urlencode({"street": code}),
            }
        )
    return {"period": period.key, "previous_period": period.previous().key, "rows": rows}


# --- warnings and rectifications ---------------------------------------------------------------


def warnings(user, active_only=True, limit=100, street=None):
    """The warnings of the viewer's street (a district user: of ``street``, or of all their streets)."""
    require_view(user)
    streets = [_chosen(user, street)] if street else streets_of(user)
    qs = Warning.objects.filter(in_scopes(streets))
    if active_only:
        qs = qs.filter(status=Warning.Status.ACTIVE)
    rows = list(qs.order_by("-opened_at", "-id")[:limit])
    rows.sort(key=lambda w: (w.status != Warning.Status.ACTIVE, w.level != Warning.Level.RED))  # red first
    return rows


def warning_out(w):
    return {
        "id": w.pk,
        "kind": w.kind,
        "kind_label": str(w.get_kind_display()),
        "level": w.level,
        "level_label": str(w.get_level_display()),
        "status": w.status,
        "title": w.title,
        "detail": w.detail,
        "scope_kind": w.scope_kind,
        "scope_code": w.scope_code,
        "scope_name": w.scope_name,
        "indicator": w.indicator,
        "weeks": w.weeks,
        "url": w.url,
        "opened_at": w.opened_at,
        "recovered_at": w.recovered_at,
    }


def scope_colours(user, indicator=None, street=None):
    """{(scope kind, code): 'yellow'|'red'} of scopes with an active indicator warning (on ``indicator``)."""
    colours = {}
    for w in warnings(user, limit=10000, street=street):
        if w.kind == Warning.Kind.INDICATOR and (indicator is None or w.indicator == indicator):
            key = (w.scope_kind, w.scope_code)
            if colours.get(key) != "red":
                colours[key] = w.level
    return colours


def rectifications(user, open_only=False, limit=200):
    if not may_see_rectifications(user):
        raise NotAllowed(_("您无权查看整改指令。"))
    qs = Rectification.objects.select_related("unit", "warning")
    if not may_view(user):
        qs = qs.filter(unit_id=user.unit_id)
    else:
        qs = qs.filter(in_streets(user, "unit__street"))
    if open_only:
        qs = qs.exclude(status=states.CLOSED)
    return list(qs.order_by("-issued_at", "-id")[:limit])


def rectification_for(user, number):
    for task in Rectification.objects.select_related("unit", "warning").filter(number=number):
        ids = user.street_ids
        in_street = ids is None or task.unit.street_id in ids
        if (may_view(user) and in_street) or (user.has_role("handler") and user.unit_id == task.unit_id):
            return task
    raise NotFound(_("整改指令 %(number)s 不存在或您无权查看。") % {"number": number})


def rectification_actions(user, task):
    """The steps ``user`` may take on the task now, with the input each needs: ``evidence``
    (a submission), ``note`` (a reason) or None."""
    return [
        {
            "action": t.action,
            "label": str(t.label),
            "needs": (t.note_field or RECTIFICATIONS.note_field) if t.needs_note else None,
        }
        for t in RECTIFICATIONS.available(task.status)
        if RECTIFICATIONS.may(user, task, t)
    ]


def rectification_out(task, now=None):
    now = now or timezone.now()
    return {
        "number": task.number,
        "title": task.title,
        "unit": task.unit.name,
        "unit_code": task.unit.code,
        "status": task.status,
        "status_label": str(task.get_status_display()),
        "due_at": task.due_at,
        "overdue": task.status != states.CLOSED and task.due_at < now,
        "issued_at": task.issued_at,
        "closed_at": task.closed_at,
        "warning": task.warning_id,
        "url": reverse("evaluation:rectification", args=[task.number]),
    }


def evidence_scores(user, month=None, limit=100):
    require_view(user)
    qs = (
        EvidenceScore.objects.select_related("entered_by")
        .filter(in_scopes(streets_of(user)) | Q(scope_code=""))
        .order_by("-entered_at", "-id")
    )
    if month:
        qs = qs.filter(month=month)
    return list(qs[:limit])


# --- the cockpit (驾驶舱) -----------------------------------------------------------------------


def records_url(**params):
    """The list of cases behind a figure."""
    return reverse("evaluation:records") + ("?" + urlencode({k: v for k, v in params.items() if v}) if params else "")


def cockpit_live(user, now=None, street=None):
    """The cockpit's first row. Live, at ``now``: today's cases, the open cases and the overdue
    ones (超期, the case page's rule: ``cases.selectors.overdue_cases``). For the period: the
    三率 of this month as the worker last computed them (``computed_at``)."""

    street = _chosen(user, street)
    now = now or timezone.now()
    local = now.astimezone(SHANGHAI)
    midnight = start_of_day(local.date())
    cases = Case.objects.filter(street=street)
    today = cases.filter(created_at__gte=midnight).exclude(status__in=NOT_MATTERS).count()
    # The open cases and the overdue ones (超期, the case page's rule), the bulk of both counted
    # from the partial index case_street_open alone (cases.selectors.street_backlog).
    backlog = street_backlog(street.pk, now=now)
    month = periods.of("month", now)
    rows = list(
        Result.objects.filter(
            period_kind="month",
            period_key=month.key,
            scope_kind="street",
            scope_code=street.code,
            indicator__in=["response_rate", "resolution_rate", "satisfaction_rate"],
        ).values_list("indicator", "value", "computed_at")
    )
    rates = {indicator: value for indicator, value, _at in rows}
    computed = max((at for _indicator, _value, at in rows), default=None)
    return {
        "now": now,
        "as_of": _("实时 · 截至 %(time)s") % {"time": f"{local:%H:%M}"},
        "month": month.key,
        "computed_at": computed,
        "period_label": period_label(month, computed, now),
        "street": street.code,
        "street_name": street.name,
        "counters": [
            {
                "key": "today",
                "label": _("今日受理"),
                "value": today,
                "url": records_url(since=local.date().isoformat()),
            },
            {"key": "open", "label": _("在办工单"), "value": backlog.open, "url": records_url(status="open")},
            {
                "key": "overdue",
                "label": _("超期工单"),
                "value": backlog.overdue,
                "url": records_url(status="open", overdue="1"),
            },
        ],
        "rates": [
            {
                "code": code,
                "label": str(lib.get(code).name),
                "value": rates.get(code),
                "display": display(lib.get(code), rates.get(code)),
                "url": reverse("evaluation:indicator", args=[code]),
            }
            for code in ("response_rate", "resolution_rate", "satisfaction_rate")
        ],
    }


def period_label(period, computed_at=None, now=None):
    """What a figure of ``period`` says of itself: "本月 2026-12 · 统计于 12-07 10:15" (the
    worker's results, as of their computation), or the period's key ("2026-11")."""
    now_key = periods.of(period.kind, now).key
    if period.kind == "month" and period.key == now_key:
        text = _("本月 %(period)s") % {"period": period.key}
    else:
        text = period.key
    if computed_at is not None:
        local = computed_at.astimezone(SHANGHAI)
        text += " · " + _("统计于 %(time)s") % {"time": f"{local:%m-%d %H:%M}"}
    return text


def category_breakdown(user, period=None, top=10, street=None):
    """Cases received per top-level category in the period (from the daily rollup)."""

    street = _chosen(user, street)
    period = periods.parse(period) if isinstance(period, str) else (period or periods.of("month"))
    start, end = period.start.date(), period.end.date()
    rows = (
        DailyCount.objects.filter(street=street, day__gte=start, day__lt=end)
        .values_list("category_id")
        .annotate(n=Sum("received"))
    )
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    names = dict(Category.objects.values_list("pk", "name"))
    codes = dict(Category.objects.values_list("pk", "code"))
    totals = {}
    for category_id, n in rows:
        node = category_id
        while node is not None and parents.get(node) is not None:
            node = parents[node]
        totals[node] = totals.get(node, 0) + n
    out = [
        {
            "category": codes.get(k, ""),
            "name": names.get(k, _("未分类")),
            "count": n,
            "url": records_url(
                category=codes.get(k, ""), since=start.isoformat(), until=(end - dt.timedelta(days=1)).isoformat()
            ),
        }
        for k, n in totals.items()
    ]
    out.sort(key=lambda r: -r["count"])
    return {"period": period.key, "total": sum(totals.values()), "categories": out[:top]}


def daily_trend(user, days=30, now=None, street=None):
    """Cases received per day over the last ``days`` days (rollup), oldest first, zero-filled."""
    street = _chosen(user, street)
    if not 1 <= int(days) <= 400:
        raise ValidationFailed("days", _("days 应在 1 到 400 之间。"))
    today = (now or timezone.now()).astimezone(SHANGHAI).date()
    first = today - dt.timedelta(days=int(days) - 1)
    counts = dict(
        DailyCount.objects.filter(street=street, day__gte=first, day__lte=today)
        .values_list("day")
        .annotate(n=Sum("received"))
    )
    return [
        {"day": (first + dt.timedelta(days=i)).isoformat(), "count": counts.get(first + dt.timedelta(days=i), 0)}
        for i in range(int(days))
    ]


HOT_FRESH = dt.timedelta(minutes=20)


def hot_issue_rows(issues):
    return [
        {
            "key": i.key,
            "title": i.title,
            "heat": i.heat,
            "count": i.count,
            "reporters": i.reporters,
            "community": i.community.name if getattr(i, "community", None) else "",
            "category": i.category.name if getattr(i, "category", None) else "",
            "growing": i.growing,
            "url": i.url,
        }
        for i in issues
    ]


def hot_issues(user, now=None, limit=10, street=None):
    """热点问题 of the viewer's street from the intelligence app. The worker's latest snapshot per street serves (its time in ``computed_at``;
    ``stale`` when it is older than 20 minutes, the worker being late or stopped), so the
    cockpit never groups a week of cases while a leader waits; the issues are computed now
    only when the worker has never stored a snapshot for the street."""
    street = _chosen(user, street)
    now = now or timezone.now()
    snapshot = Snapshot.objects.filter(key=hot_snapshot_key(street)).first()
    if snapshot is not None:
        return {
            "available": True,
            "issues": snapshot.data[:limit],
            "computed_at": snapshot.computed_at,
            "stale": snapshot.computed_at < now - HOT_FRESH,
        }
    issues = intelligence.hot_issues_by_street(now=now, limit=limit, streets=[street.pk]).get(street.pk, [])
    return {"available": True, "issues": hot_issue_rows(issues), "computed_at": now, "stale": False}


def hot_snapshot_key(street):
    return f"hot_issues:{street.code}"


def top_problems(period, top=10, street=None):
    """Leaf categories with the most cases received in the period (rollup), for the monthly report."""

    days = DailyCount.objects.filter(street=street) if street is not None else DailyCount.objects.all()
    rows = (
        days.filter(day__gte=period.start.date(), day__lt=period.end.date(), category__isnull=False)
        .values_list("category_id")
        .annotate(n=Sum("received"))
        .order_by("-n")[:top]
    )
    categories = {
        c.pk: c for c in Category.objects.filter(pk__in=[r[0] for r in rows]).select_related("parent__parent")
    }
    return [{"category": categories[pk].path_name, "count": n} for pk, n in rows]


def records_filters(
    *,
    street: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    community: str | None = None,
    category: str | None = None,
    unit: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[str]:
    """The filters of the records page in plain words ("在办", "超期", "社区：东湖社区" …),
    places and categories by their names."""
    words = []
    if street:
        words.append(_("街道：%(name)s") % {"name": _name_of(Street, street)})
    if status == "open":
        words.append(_("在办"))
    if overdue:
        words.append(_("超期（待响应过了响应时限，或过了办结时限还未办结）"))
    if community:
        words.append(_("社区：%(name)s") % {"name": _name_of(Community, community)})
    if unit:
        words.append(_("承办单位：%(name)s") % {"name": _name_of(Unit, unit)})
    if category:
        words.append(_("分类：%(name)s") % {"name": _name_of(Category, category)})
    if since and until and since == until:
        words.append(_("受理日期：%(day)s") % {"day": since})
    else:
        if since:
            words.append(_("受理日期从 %(day)s 起") % {"day": since})
        if until:
            words.append(_("受理日期到 %(day)s 止") % {"day": until})
    return words


def _name_of(model, code):
    return model.objects.filter(code=code).values_list("name", flat=True).first() or code


def records(
    user,
    *,
    status=None,
    overdue=False,
    community=None,
    category=None,
    unit=None,
    since=None,
    until=None,
    cursor=None,
    limit=50,
    now=None,
    street=None,
):
    """The cases behind a cockpit figure: the user's visible cases with the figure's filters."""

    require_view(user)
    qs = visible_cases(user).select_related(*LIST_FIELDS)
    if street:
        qs = qs.filter(street__code=street)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    if overdue:
        qs = overdue_cases(qs, now=now or timezone.now())
    if community:
        qs = qs.filter(community__code=community)
    if unit:
        qs = qs.filter(unit__code=unit)
    if category:
        node = Category.objects.filter(code=category).first()
        if node is None:
            raise ValidationFailed("category", _("分类代码“%(code)s”不存在。") % {"code": category})
        qs = qs.filter(Q(category=node) | Q(category__parent=node) | Q(category__parent__parent=node))
    for name, value, lookup in (("since", since, "created_at__gte"), ("until", until, "created_at__lt")):
        if value:
            day = params.parse_date(value, name)
            if name == "until":
                day += dt.timedelta(days=1)
            qs = qs.filter(**{lookup: start_of_day(day)})
    qs = qs.order_by("-created_at", "-id")
    if cursor:
        last_id = params.row_id(cursor)
        if last_id is None:
            raise ValidationFailed("cursor", _("翻页参数无效。"))
        last = Case.objects.filter(pk=last_id).values_list("created_at", flat=True).first()
        if last is not None:
            qs = qs.filter(Q(created_at__lt=last) | Q(created_at=last, id__lt=last_id))
    rows = list(qs[: limit + 1])
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return rows[:limit], next_cursor
