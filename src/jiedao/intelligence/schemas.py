"""What the intelligence app answers about possible duplicates (重复件), shared by its own API and
the case API's answer when a new request looks like an open case."""

from ninja import Schema

from jiedao.common.masking import mask_personal_text
from jiedao.common.schemas import ErrorsOut


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
