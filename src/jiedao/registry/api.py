"""The registry API (一户一档): persons (masked), one person, visits, the assistance list
and the registry's measures. Thin: services write, selectors read and scope."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from jiedao.common.errors import ValidationFailed
from jiedao.common.masking import mask_personal_text
from jiedao.common.schemas import ErrorsOut
from jiedao.org.permissions import permission

from . import lookups, selectors, services

router = Router(tags=["registry"])
ERRORS = {401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut, 422: ErrorsOut}


class PersonOut(Schema):
    """A person as the caller may see them: ``id_number`` and ``phone`` are masked
    (``110105********002X``, ``138****5678``) unless ``masked`` is false. A masked person
    comes with ``age`` and no ``birth_date`` (null): the birth date is eight of the hidden
    digits of the identity number."""

    id: int
    name: str
    gender: str
    gender_label: str
    birth_date: dt.date | None
    age: int | None
    id_number: str
    phone: str
    masked: bool
    status: str
    status_label: str
    relation: str
    relation_label: str
    household: str
    address: str
    community: str
    grid: str
    grid_name: str
    tags: list[str]
    confirmed_at: dt.datetime


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None


class SourceOut(Schema):
    field: str
    label: str
    source: str
    by: str
    at: dt.datetime | None


class VisitOut(Schema):
    id: int
    person: int
    worker: str
    at: dt.datetime
    kind: str
    kind_label: str
    note: str


class MemberOut(Schema):
    id: int
    name: str
    relation: str
    relation_label: str
    age: int | None
    tags: list[str]


class PersonDetail(PersonOut):
    sources: list[SourceOut]
    visits: list[VisitOut]
    members: list[MemberOut]


class VisitIn(Schema):
    """``kind``: ``home`` (上门) or ``phone`` (电话); ``at`` defaults to now."""

    person: int
    kind: str = "home"
    at: dt.datetime | None = None
    note: str = ""


class AssistanceRow(PersonOut):
    recent_visits: int
    last_visit: str


class VisitRateOut(Schema):
    visits: int
    persons: int
    weeks: float
    start: str
    end: str
    visits_per_person_per_week: float | None


class AssistanceOut(Schema):
    title: str
    count: int
    items: list[AssistanceRow]
    visits: VisitRateOut


class FreshnessOut(Schema):
    kind: str
    label: str
    total: int
    fresh: int
    share: float | None


class RegistryMeasuresOut(Schema):
    visits_per_week: VisitRateOut
    weekly: list[VisitRateOut]
    freshness_days: int
    freshness: list[FreshnessOut]


def _visit_out(visit, masked=False):
    """A visit; in a masked view the phones and identity numbers in its note are masked too."""
    return {
        "id": visit.pk,
        "person": visit.person_id,
        "worker": str(visit.worker),
        "at": visit.at,
        "kind": visit.kind,
        "kind_label": visit.get_kind_display(),
        "note": mask_personal_text(visit.note) if masked else visit.note,
    }


def _codes(value):
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@router.get(
    "/registry/persons", response={200: PersonPage, **ERRORS, 429: ErrorsOut}, summary="Persons (人员档案), masked"
)
def list_persons(request, grid: str = "", tag: str = "", q: str = "", cursor: str = "", limit: int = 50):
    """Persons the caller may see, in id order, by key: pass ``next_cursor`` as ``cursor``.
    ``q``: part of a name, or a complete identity number or mobile number (exact match): only
    for administrators and grid workers (among their grids' persons), 403 for others; limited
    per user and per number (429 with Retry-After) and written to the access log.
    Identity numbers and phones are always masked in lists."""
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit", _("每页条数须在1到200之间。"))
    selectors.require_read(request.user)
    lookups.count(request, q)
    persons, next_cursor = selectors.person_list(
        request.user, grid=grid or None, tag=tag or None, q=q or None, cursor=cursor or None, limit=limit
    )
    return {"items": [selectors.person_out(p) for p in persons], "next_cursor": next_cursor}


@router.get("/registry/persons/{person_id}", response={200: PersonDetail, **ERRORS}, summary="One person")
def get_person(request, person_id: int, unmask: bool = False):
    """The person with field sources, visits and household members. ``unmask=true``
    shows the identity number and phone in full to administrators and to grid workers
    of the person's grid (403 for others); every such view is written to the access log."""
    user = request.user
    selectors.require_read(user)
    person = selectors.person_for(user, person_id)
    data = selectors.reveal(user, person, purpose="api") if unmask else selectors.person_out(person)
    members = []
    if person.household_id:
        members = [
            {
                "id": m.pk,
                "name": m.name,
                "relation": m.relation,
                "relation_label": m.get_relation_display() if m.relation else "",
                "age": selectors.age_on(m.birth_date, timezone.localdate()),
                "tags": [t.name for t in m.tags.all()],
            }
            for m in selectors.members_of(person.household)
        ]
    visits = [_visit_out(v, masked=data["masked"]) for v in selectors.visits_of(person)]
    return {**data, "sources": selectors.sources_of(person), "visits": visits, "members": members}


@router.post("/registry/visits", response={201: VisitOut, **ERRORS}, summary="Log a visit (探访)")
@permission("registry.visit")
def create_visit(request, payload: VisitIn):
    """A grid worker (or the community's staff, or an administrator) logs a visit to a
    person of their area."""
    visit = services.record_visit(
        request.user, person_id=payload.person, kind=payload.kind, at=payload.at, note=payload.note
    )
    return Status(201, _visit_out(visit))


@router.get("/registry/assistance-list", response={200: AssistanceOut, **ERRORS}, summary="帮扶清单")
def assistance_list(request, grid: str = "", tag: str = ""):
    """The special-care persons of the chosen grids (grid codes separated by commas; all
    the caller's grids when empty) with the chosen tags (codes or names separated by
    commas; any tag when empty), masked, with their visits in the last four weeks and
    the visits per person per week of the selection."""
    user = request.user
    grids, tags = _codes(grid), _codes(tag)
    persons, grid_objs, _tag_objs = selectors.assistance_list(user, grids=grids, tags=tags)
    rows = selectors.assistance_rows(user, persons)
    rate = selectors.visits_per_week(user, grids=grids, tags=tags, weeks=4)
    title = "、".join(str(g) for g in grid_objs) or _("全部可见网格")
    return {"title": title, "count": len(rows), "items": rows, "visits": rate.as_dict()}


@router.get(
    "/registry/measures", response={200: RegistryMeasuresOut, **ERRORS}, summary="Registry measures", tags=["metrics"]
)
def measures(request, grid: str = "", tag: str = "", weeks: int = 4, days: int = selectors.DEFAULT_FRESH_DAYS):
    """探访频次 (visits per special-care person per week over the last ``weeks`` weeks,
    and week by week for the last 12) and 数据鲜活度 (share of records confirmed by a
    source within ``days`` days), over what the caller may see."""
    user = request.user
    grids, tags = _codes(grid), _codes(tag)
    rate = selectors.visits_per_week(user, grids=grids, tags=tags, weeks=weeks)
    weekly = selectors.weekly_visit_rates(user, grids=grids, tags=tags, weeks=12)
    rows, total = selectors.freshness(user, days=days)
    return {
        "visits_per_week": rate.as_dict(),
        "weekly": [w.as_dict() for w in weekly],
        "freshness_days": days,
        "freshness": [r.as_dict() for r in rows] + [total.as_dict()],
    }
