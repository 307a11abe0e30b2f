"""Pages of the evaluation app: the indicator library, an indicator's values, rankings,
warnings and rectification tasks, evaluators' scores, the monthly report and the cockpit
(驾驶舱, with its large-screen mode). Thin: every read is a selector, every write a service."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from jiedao.geo.selectors import may_see_map
from jiedao.org.models import Community, Grid, Unit
from jiedao.org.permissions import permission
from jiedao.org.selectors import in_streets
from jiedao.web.access import role_required

from . import examples, periods, report, selectors, services, staff
from .models import Assessment, ScopeKind
from .states import RECTIFICATIONS

VIEW_ROLES = selectors.VIEW_ROLES


def _period(request, kind="month"):
    key = request.GET.get("period") or ""
    try:
        return periods.parse(key) if key else periods.of(kind)
    except ValidationFailed as exc:
        messages.error(request, exc.errors[0]["message"])
        return periods.of(kind)


def _street(request):
    """The street a district user chose (``?street=CODE``); everybody else sees their own."""
    try:
        return selectors.street_for(request.user, request.GET.get("street") or None)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except NotAllowed:
        raise PermissionDenied from None


def _street_choice(request, street):
    """Template context for the street picker of district users."""
    streets = selectors.streets_of(request.user)
    return {"street": street, "streets": streets if len(streets) > 1 else []}


def _errors(request, exc):
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            messages.error(request, error["message"])
    else:
        messages.error(request, exc.message)


@role_required(*VIEW_ROLES)
def library(request):
    period = _period(request)
    street = _street(request)
    rows = selectors.indicator_list(request.user, period, street=street)
    families = {}
    for row in rows:
        families.setdefault(row["family"], []).append(row)
    return render(
        request,
        "evaluation/library.html",
        {
            "period": period,
            "previous": period.previous(),
            "next": period.next(),
            "families": families.items(),
            "not_computable": sum(1 for r in rows if not r["computable"]),
            "total": len(rows),
            **_street_choice(request, street),
        },
    )


@role_required(*VIEW_ROLES)
def indicator(request, code):
    try:
        ind = selectors.indicator_for(request.user, code)
    except NotFound as exc:
        raise Http404(exc.message) from None
    scope = request.GET.get("scope") or ind.scopes[0]
    if scope not in ind.scopes:
        scope = ind.scopes[0]
    period = _period(request, "month")
    street = _street(request)
    data = (
        selectors.values(request.user, code, scope=scope, period=period.key, street=street)
        if ind.computable()
        else None
    )
    colours = selectors.scope_colours(request.user, code, street=street)
    rows = []
    for row in data["values"] if data else []:
        row["colour"] = colours.get((row["scope_kind"], row["scope_code"]), "")
        rows.append(row)
    config = {
        "values": reverse("api:evaluation_values", args=[code]),
        "scope": "street" if "street" in ind.scopes else scope,
        "kind": period.kind,
        "name": str(ind.name),
        "rate": ind.kind == "rate",
        "street": street.code,
    }
    info = selectors.indicator_out(ind)
    info["display_baseline"] = selectors.display(ind, info["baseline"])
    info["display_target"] = selectors.display(ind, info["target"])
    return render(
        request,
        "evaluation/indicator.html",
        {
            "indicator": info,
            "scope": scope,
            "scopes": [(k, label) for k, label in ScopeKind.choices if k in ind.scopes],
            "period": period,
            "previous": period.previous(),
            "next": period.next(),
            "rows": rows,
            "worked": examples.worked(code),
            "config": json.dumps(config, ensure_ascii=False),
            **_street_choice(request, street),
        },
    )


@role_required(*VIEW_ROLES)
def rankings(request):
    scope = request.GET.get("scope") or "community"
    street = _street(request)
    try:
        data = selectors.rankings(
            request.user, request.GET.get("scheme") or None, _period(request), scope, street=street
        )
    except (ValidationFailed, NotFound) as exc:
        _errors(request, exc)
        return redirect("evaluation:rankings")
    return render(
        request,
        "evaluation/rankings.html",
        {
            "data": data,
            "schemes": selectors.schemes(),
            "scope": scope,
            "period": periods.parse(data["period"]),
            "previous": periods.parse(data["period"]).previous(),
            "next": periods.parse(data["period"]).next(),
            "district": len(selectors.streets_of(request.user)) > 1,
            **_street_choice(request, street),
        },
    )


@role_required(*VIEW_ROLES)
def street_ranking(request):
    try:
        data = selectors.street_ranking(request.user, request.GET.get("period") or None)
    except ValidationFailed as exc:
        _errors(request, exc)
        return redirect("evaluation:streets")
    period = periods.parse(data["period"])
    return render(
        request,
        "evaluation/streets.html",
        {"data": data, "period": period, "previous": period.previous(), "next": period.next()},
    )


@role_required(*VIEW_ROLES, "handler")
@permission("evaluation.rectification.issue")
def warnings(request):
    user = request.user
    viewer = selectors.may_view(user)
    if request.method == "POST":
        if not viewer:
            raise PermissionDenied
        unit = Unit.objects.filter(code=request.POST.get("unit", "")).first()
        try:
            if unit is None:
                raise ValidationFailed("unit", _("请选择责任单位。"))
            task = services.issue_rectification(
                user, unit=unit, title=request.POST.get("title", ""), requirement=request.POST.get("requirement", "")
            )
        except DomainError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("整改指令 %(number)s 已下达。") % {"number": task.number})
            return redirect("evaluation:rectification", task.number)
    now = timezone.now()
    return render(
        request,
        "evaluation/warnings.html",
        {
            "viewer": viewer,
            "warnings": selectors.warnings(user) if viewer else [],
            "recovered": selectors.warnings(user, active_only=False, limit=30) if viewer else [],
            "tasks": [(t, selectors.rectification_out(t, now)) for t in selectors.rectifications(user)],
            "units": Unit.objects.filter(in_streets(user), active=True).order_by("code") if viewer else [],
        },
    )


@role_required(*VIEW_ROLES, "handler")
@permission(*(f"{RECTIFICATIONS.permission_prefix}.{action}" for action in RECTIFICATIONS.transitions))
def rectification(request, number):
    user = request.user
    try:
        task = selectors.rectification_for(user, number)
    except NotFound as exc:
        raise Http404(exc.message) from None
    if request.method == "POST":
        try:
            services.act_on_rectification(
                user,
                number=number,
                action=request.POST.get("action", ""),
                evidence=request.POST.get("evidence", ""),
                note=request.POST.get("note", ""),
            )
        except NotAllowed:
            raise PermissionDenied from None
        except DomainError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("已记录。"))
        return redirect("evaluation:rectification", number)
    events = list(task.events.select_related("actor").order_by("seq"))
    for event in events:
        event.label = RECTIFICATIONS.label(event.action)
    return render(
        request,
        "evaluation/rectification.html",
        {
            "task": task,
            "info": selectors.rectification_out(task),
            "events": events,
            "actions": selectors.rectification_actions(user, task),
        },
    )


@role_required(*VIEW_ROLES)
@permission("evaluation.score")
def evidence(request):
    user = request.user
    month = request.GET.get("month") or periods.of("month").key
    if request.method == "POST":
        kind, _sep, code = request.POST.get("scope", "").partition(":")
        try:
            services.enter_evidence_score(
                user,
                scope_kind=kind,
                scope_code=code,
                month=request.POST.get("month", ""),
                score=request.POST.get("score"),
                evidence=request.POST.get("evidence", ""),
            )
        except NotAllowed:
            raise PermissionDenied from None
        except DomainError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("评分已录入，创新指数已重新计算。"))
            return redirect(reverse("evaluation:evidence") + f"?month={request.POST.get('month', '')}")
    scopes = (
        [("community:" + c.code, c.name) for c in Community.objects.filter(in_streets(user)).order_by("code")]
        + [("unit:" + u.code, u.name) for u in Unit.objects.filter(in_streets(user), active=True).order_by("code")]
        + [
            ("grid:" + g.code, f"{g.community.name}{g.name}")
            for g in Grid.objects.filter(in_streets(user, "community__street"))
            .select_related("community")
            .order_by("code")
        ]
    )
    names = dict(scopes)
    rows = selectors.evidence_scores(user, month)
    for row in rows:
        row.scope_label = names.get(f"{row.scope_kind}:{row.scope_code}", row.scope_code)
    return render(
        request,
        "evaluation/evidence.html",
        {"month": month, "rows": rows, "scopes": scopes, "may_enter": user.has_role("evaluator", "admin")},
    )


@role_required(*VIEW_ROLES)
def report_view(request):
    month = request.GET.get("month") or periods.of("month").previous().key
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "pdf"):
        try:
            period = periods.parse(month, "month")
        except ValidationFailed as exc:
            _errors(request, exc)
            return redirect("evaluation:report")
        street = _street(request)
        data = report.monthly_data(period, street)
        if fmt == "xlsx":
            body, kind = report.excel(data), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body, kind = report.pdf(data), "application/pdf"
        response = HttpResponse(body, content_type=kind)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''%E6%9C%88%E9%80%9A%E6%8A%A5-{period.key}.{fmt}"
        return response
    return render(request, "evaluation/report.html", {"month": month, **_street_choice(request, _street(request))})


def _cockpit_config(request, screen, street):

    scheme = selectors.schemes()
    return json.dumps(
        {
            "street": street.code,
            "live": reverse("api:evaluation_live"),
            "values": reverse("api:evaluation_values", args=["CODE"]),
            "rankings": reverse("api:evaluation_rankings"),
            "categories": reverse("api:evaluation_categories"),
            "trend": reverse("api:evaluation_trend"),
            "warnings": reverse("api:evaluation_warnings"),
            "hot": reverse("api:evaluation_hot"),
            "heat": reverse("api:geo_heat") if may_see_map(request.user) else None,
            "grids": reverse("api:geo_grids") if may_see_map(request.user) else None,
            "indicator": reverse("evaluation:indicator", args=["CODE"]),
            "rankingPage": reverse("evaluation:rankings"),
            "records": reverse("evaluation:records"),
            "scheme": scheme[0].code if scheme else "",
            "refresh": 60 if screen else 0,
            "screen": screen,
            "labels": {
                "rates": _("三率趋势（近12个月）"),
                "response": _("响应率"),
                "resolution": _("解决率"),
                "satisfaction": _("满意率"),
                "received": _("每日受理量（近30天）"),
                "cases": _("件"),
                "noHot": _("暂无热点问题"),
                "hotAsOf": _("热点问题更新于"),
                "hotMissing": _("热点问题模块尚未启用"),
                "noWarnings": _("暂无预警"),
                "score": _("得分"),
                "error": _("数据加载失败，稍后自动重试。"),
                "updated": _("页面数据更新于"),
                # What each panel's figures are: live, or of which period.
                "months": _("近12个月：%(first)s 至 %(last)s，每月统计结果"),
                "days": _("近30天：%(first)s 至 %(last)s"),
                "thisMonth": _("本月 %(period)s"),
                "heat": _("近%(days)s天，今日实时"),
                "hotWindow": _("近7天 · 统计于 %(time)s"),
            },
        },
        ensure_ascii=False,
    )


@role_required(*VIEW_ROLES)
def cockpit(request):
    street = _street(request)
    return render(
        request,
        "evaluation/cockpit.html",
        {"config": _cockpit_config(request, False, street), "screen": False, **_street_choice(request, street)},
    )


@role_required(*VIEW_ROLES)
def screen(request):
    street = _street(request)
    return render(
        request,
        "evaluation/screen.html",
        {"config": _cockpit_config(request, True, street), "screen": True, **_street_choice(request, street)},
    )


@role_required(*VIEW_ROLES)
def records(request):
    get = request.GET
    rows, next_cursor = [], None
    # The filters as chosen in the address, for the list and for saying them in words.
    chosen = {
        "street": get.get("street") or None,
        "status": get.get("status") or None,
        "overdue": get.get("overdue") == "1",
        "community": get.get("community") or None,
        "category": get.get("category") or None,
        "unit": get.get("unit") or None,
        "since": get.get("since") or None,
        "until": get.get("until") or None,
    }
    try:
        rows, next_cursor = selectors.records(request.user, cursor=get.get("cursor") or None, **chosen)
    except ValidationFailed as exc:
        _errors(request, exc)
    next_url = None
    if next_cursor:
        params = get.copy()
        params["cursor"] = next_cursor
        next_url = "?" + params.urlencode()
    # The filters in plain words, places and categories by name.
    filters = selectors.records_filters(**chosen)
    return render(request, "evaluation/records.html", {"rows": rows, "next_url": next_url, "filters": filters})


@role_required(*VIEW_ROLES)
@permission("evaluation.assess")
def assessments(request):
    """考核建议 of seconded staff: leaders record them; everybody who reads evaluation sees them
    and exports them per department (``?format=csv`` or ``xlsx``)."""
    user = request.user
    unit = (request.GET.get("unit") or "").strip()[:30]
    period = (request.GET.get("period") or "").strip()[:10]
    form = {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("person", "period", "grade", "opinion")}
        try:
            staff.record_assessment(user, **form)
        except NotAllowed:
            raise PermissionDenied from None
        except DomainError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("考核建议已保存。"))
            return redirect(reverse("evaluation:assessments") + f"?period={form['period'].strip()}")
    rows = staff.assessments(user, unit=unit, period=period)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        if fmt == "csv":
            body, kind = staff.as_csv(rows), "text/csv; charset=utf-8"
        else:
            body, kind = staff.as_xlsx(rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(body, content_type=kind)
        name = "%E8%80%83%E6%A0%B8%E5%BB%BA%E8%AE%AE"  # 考核建议
        suffix = "".join(c for c in f"-{unit}-{period}" if c.isalnum() or c == "-").strip("-")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}{'-' + suffix if suffix else ''}.{fmt}"
        return response
    return render(
        request,
        "evaluation/assessments.html",
        {
            "rows": rows,
            "unit": unit,
            "period": period,
            "form": form,
            "people": staff.seconded_staff(user),
            "departments": staff.departments(user),
            "grades": Assessment.Grade.choices,
            "default_period": periods.of("quarter").previous().key,
            "may_enter": user.has_role("leader", "admin"),
        },
    )
