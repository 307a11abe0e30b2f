"""API of 智能分拨: classify a text, and look for duplicates before registering a case."""

from ninja import Field, Router, Schema

from jiedao.common.schemas import ErrorsOut
from jiedao.org.models import Grid
from jiedao.org.permissions import permission

from . import selectors
from .schemas import CandidateOut, candidate_out

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
    threshold: float | None
    items: list[SuggestionOut]


class DuplicatesIn(Schema):
    description: str = ""
    lat: float | None = None
    lng: float | None = None
    grid: str = ""
    category: str = ""
    address: str = Field("", max_length=200)


class DuplicatesOut(Schema):
    items: list[CandidateOut]


def _staff(user):
    return user.is_authenticated and user.is_street_staff


@router.post("/classify", response={200: ClassifyOut, **ERRORS}, summary="Classify a text (智能分类)")
@permission("intake.assist")
def classify_text(request, payload: ClassifyTextIn):
    """The active model's top-3 categories with probabilities and, for street staff, the unit
    each would be routed to. ``version`` is null (and ``items`` empty) when no model is active."""

    grid = Grid.objects.select_related("community").filter(code=payload.grid).first() if payload.grid else None
    community = grid.community if grid else None
    version = selectors.active_version()
    items = selectors.suggest(payload.text, community=community, grid=grid, with_units=_staff(request.user))
    return {
        "version": version.pk if version else None,
        "threshold": selectors.auto_threshold(version),
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


@router.post("/duplicates", response={200: DuplicatesOut, **ERRORS}, summary="Possible duplicates (重复件)")
@permission("intake.assist")
def duplicates(request, payload: DuplicatesIn):
    """Open or recently closed cases near the place and similar in text, best first. Residents
    and other callers outside the street see no descriptions. Register the case with
    ``attach_to`` set to a candidate's number to follow it instead of opening a new one."""
    found = selectors.find_duplicates(
        payload.description, payload.lat, payload.lng, payload.grid, payload.category, address=payload.address
    )
    return {"items": [candidate_out(c, _staff(request.user)) for c in found]}
