"""API of 智能分拨: classify a text, and look for duplicates before registering a case."""

from ninja import Router, Schema

from jiedao.common.masking import mask_personal_text
from jiedao.org.api import ErrorsOut
from jiedao.org.permissions import permission

from . import selectors

router = Router(tags=["intelligence"])
ERRORS = {401: ErrorsOut, 403: ErrorsOut, 422: ErrorsOut}


class ClassifyTextIn(Schema):
    text: str = ""
    community: str = ""
    grid: str = ""


class IntelligenceUnitOut(Schema):
    code: str
    name: str


class SuggestionOut(Schema):
    label: str
    category: str | None
    name: str | None
    probability: float
    unit: IntelligenceUnitOut | None


class ClassifyOut(Schema):
    version: int | None
    threshold: float
    items: list[SuggestionOut]


class DuplicatesIn(Schema):
    description: str = ""
    lat: float | None = None
    lng: float | None = None
    grid: str = ""
    category: str = ""


class CandidateOut(Schema):
    number: str
    status: str
    category: str | None
    created_at: str
    score: float
    similarity: float
    distance_m: float | None
    same_grid: bool
    description: str


class DuplicatesOut(Schema):
    items: list[CandidateOut]


class DuplicateConflictOut(ErrorsOut):
    candidates: list[CandidateOut] = []


def candidate_out(candidate, show_text=True):
    case = candidate.case
    return {
        "number": case.number,
        "status": case.status,
        "category": case.category.code if case.category else None,
        "created_at": case.created_at.isoformat(),
        "score": candidate.score,
        "similarity": candidate.similarity,
        "distance_m": candidate.distance_m,
        "same_grid": candidate.same_grid,
        "description": mask_personal_text(case.description)[:80] if show_text else "",
    }


def _staff(user):
    return user.is_authenticated and user.is_street_staff


@router.post("/classify", response={200: ClassifyOut, **ERRORS}, summary="Classify a text (智能分类)")
@permission("intake.assist")
def classify_text(request, payload: ClassifyTextIn):
    """The active model's top-3 categories with probabilities and, for street staff, the unit
    each would be routed to. ``version`` is null (and ``items`` empty) when no model is active."""
    from jiedao.org.models import Grid

    grid = Grid.objects.select_related("community").filter(code=payload.grid).first() if payload.grid else None
    community = grid.community if grid else None
    items = selectors.suggest(payload.text, community=community, grid=grid, with_units=_staff(request.user))
    version = selectors.active_version()
    return {
        "version": version.pk if version else None,
        "threshold": selectors.tuning().auto_dispatch_confidence,
        "items": [
            {
                "label": s.label,
                "category": s.category.code if s.category else None,
                "name": s.category.path_name if s.category else None,
                "probability": round(s.probability, 4),
                "unit": {"code": s.unit.code, "name": s.unit.name} if s.unit else None,
            }
            for s in items
        ],
    }


def find_duplicates(description, lat=None, lng=None, grid_code="", category_code="", limit=5):
    from jiedao.org.models import Grid

    grid = Grid.objects.filter(code=grid_code).first() if grid_code else None
    if grid is None and lat is not None and lng is not None:
        from jiedao.cases.selectors import grid_at

        grid = grid_at(lat, lng)
    category = selectors.category_for_label(category_code) if category_code else None
    return selectors.duplicate_candidates(text=description, lat=lat, lng=lng, grid=grid, category=category, limit=limit)


@router.post("/duplicates", response={200: DuplicatesOut, **ERRORS}, summary="Possible duplicates (重复件)")
@permission("intake.assist")
def duplicates(request, payload: DuplicatesIn):
    """Open or recently closed cases near the place and similar in text, best first. Residents
    and other callers outside the street see no descriptions. Register the case with
    ``attach_to`` set to a candidate's number to follow it instead of opening a new one."""
    found = find_duplicates(payload.description, payload.lat, payload.lng, payload.grid, payload.category)
    return {"items": [candidate_out(c, _staff(request.user)) for c in found]}
