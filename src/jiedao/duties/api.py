"""GET /api/v1/duties and /api/v1/duties/{code}: the public responsibility list."""

import datetime as dt

from ninja import Router, Schema

from jiedao.common.throttle import Limit, api_limits

from . import selectors

router = Router(tags=["duties"])


class DutyUnitOut(Schema):
    code: str
    name: str


class VersionOut(Schema):
    number: int
    name: str
    list_type: str
    list_type_label: str
    power_type: str
    power_type_label: str
    level: str
    level_label: str
    responsible_unit: DutyUnitOut | None
    collaborating_units: list[DutyUnitOut]
    categories: list[dict]
    basis_statute: str
    basis_article: str
    basis_text: str
    response_hours: float | None
    completion_workdays: int | None
    needs_verification: bool
    full_enforcement: bool
    how_to: str
    keywords: str
    status: str
    effective_from: dt.date
    effective_to: dt.date | None
    changed_at: dt.datetime
    reason: str
    approval_doc: str


class DutyOut(Schema):
    code: str
    current: VersionOut


class DutyDetailOut(DutyOut):
    versions: list[VersionOut]


def _unit(unit):
    return {"code": unit.code, "name": unit.name} if unit else None


def version_out(v):
    return {
        "number": v.number,
        "name": v.name,
        "list_type": v.list_type,
        "list_type_label": v.get_list_type_display(),
        "power_type": v.power_type,
        "power_type_label": v.get_power_type_display(),
        "level": v.level,
        "level_label": v.get_level_display(),
        "responsible_unit": _unit(v.responsible_unit),
        "collaborating_units": [_unit(u) for u in v.collaborating_units.all()],
        "categories": [{"code": c.code, "name": c.name} for c in v.categories.all()],
        "basis_statute": v.basis_statute,
        "basis_article": v.basis_article,
        "basis_text": v.basis_text,
        "response_hours": float(v.response_hours) if v.response_hours is not None else None,
        "completion_workdays": v.completion_workdays,
        "needs_verification": v.needs_verification,
        "full_enforcement": v.full_enforcement,
        "how_to": v.how_to,
        "keywords": v.keywords,
        "status": v.status,
        "effective_from": v.effective_from,
        "effective_to": v.effective_to,
        "changed_at": v.changed_at,
        "reason": v.reason,
        "approval_doc": v.approval_doc,
    }


@router.get("/duties", response=list[DutyOut], auth=None, throttle=api_limits(Limit("SEARCH_RATE")))
def list_duties(request, q: str = "", category: str = "", unit: str = ""):
    """Items in force, best match first when ``q`` (a problem in the resident's words) is given."""
    versions = selectors.search(q=q, category=category or None, unit=unit or None)
    return [{"code": v.item.code, "current": version_out(v)} for v in versions]


@router.get("/duties/{code}", response=DutyDetailOut, auth=None, throttle=api_limits(Limit("PUBLIC_PAGE_RATE")))
def get_duty(request, code: str):
    item, versions = selectors.item_with_versions(code)
    return {"code": item.code, "current": version_out(item.current), "versions": [version_out(v) for v in versions]}
