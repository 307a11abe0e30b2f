"""Grid measures (网格化管理指标). One selector each; the measures page, the API
(GET /api/v1/geo/measures) and the tests all call these. Definitions (also in docs/geo.md):

- 主动发现率 (active discovery rate) = cases received in the month through the grid
  worker channel (``channel = grid``) / all cases received in the month. Cases merged
  into another (并案, duplicates of one matter) are left out of both counts.
- 小事不出网格 (settled at grid level) = cases closed (结案) in the month that were
  settled at grid level / all cases closed in the month. A case is settled at grid
  level when the grid worker closed it on the spot (已自行处置: ``outcome`` ``self_resolved``,
  reported so or taken from the queue), when the unit holding it at closing is the residents'
  committee (居委会) of the community where the case lies, or when its last 办结 (resolve)
  was recorded by a grid worker of the case's own grid.
- 网格事件办结率 (grid event completion rate) = grid-channel cases resolved (办结反馈)
  by their completion limit / grid-channel cases whose completion limit falls in the
  month and has passed or that were resolved already (cases not yet due are not counted).

With ``community`` (a community code) every count is restricted to the cases of that
community. A rate is ``None`` when its denominator is zero ("no data"), never 0 or 100 %.
"""

from dataclasses import asdict, dataclass

from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed
from jiedao.org.models import Community, Unit

from .measures import current_month, month_bounds
from .models import NOT_MATTERS, Case, CaseEvent, Channel, Outcome, Status

__all__ = [
    "Ratio",
    "active_discovery",
    "current_month",
    "grid_completion",
    "grid_level_share",
    "grid_measures",
    "grid_measures_by_community",
]


@dataclass
class Ratio:
    numerator: int
    denominator: int

    @property
    def value(self):
        return None if not self.denominator else self.numerator / self.denominator

    def as_dict(self):
        return {"value": self.value, "numerator": self.numerator, "denominator": self.denominator}


def _community(code):
    """The community of a code (a Community passes through), None for the whole street."""
    if not code:
        return None
    if isinstance(code, Community):
        return code
    community = Community.objects.filter(code=code).first()
    if community is None:
        raise ValidationFailed("community", _("社区代码“%(code)s”不存在。") % {"code": code})
    return community


def _scoped(qs, community):
    return qs.filter(community=community) if community is not None else qs


def active_discovery(month, community=None) -> Ratio:
    """主动发现率: grid-channel cases / all cases received in the month."""
    start, end = month_bounds(month)
    qs = _scoped(Case.objects.filter(created_at__gte=start, created_at__lt=end), _community(community))
    qs = qs.exclude(status__in=NOT_MATTERS)
    return Ratio(numerator=qs.filter(channel=Channel.GRID).count(), denominator=qs.count())


def settled_at_grid_level():
    """The condition of a case settled at grid level (see the module's docstring)."""
    committee_of_place = Q(
        community_id__isnull=False, unit__kind=Unit.Kind.COMMUNITY, unit__community_id=F("community_id")
    )
    last_resolve = Subquery(
        CaseEvent.objects.filter(case_id=OuterRef("case_id"), action="resolve").order_by("-seq").values("seq")[:1]
    )
    resolved_by_grid_worker = Exists(
        CaseEvent.objects.filter(
            case_id=OuterRef("pk"),
            action="resolve",
            seq=last_resolve,
            actor__grids=OuterRef("grid_id"),
            actor__groups__name="grid",
        )
    )
    fixed_on_the_spot = Q(outcome=Outcome.SELF_RESOLVED)
    return fixed_on_the_spot | committee_of_place | (Q(grid_id__isnull=False) & resolved_by_grid_worker)


def grid_level_share(month, community=None) -> Ratio:
    """小事不出网格: closed cases settled at grid level / cases closed in the month."""
    start, end = month_bounds(month)
    qs = _scoped(
        Case.objects.filter(status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end), _community(community)
    )
    return Ratio(numerator=qs.filter(settled_at_grid_level()).count(), denominator=qs.count())


def grid_completion(month, community=None, now=None) -> Ratio:
    """网格事件办结率: grid-channel cases resolved by their limit / those due in the month."""
    start, end = month_bounds(month)
    now = now or timezone.now()
    qs = _scoped(
        Case.objects.filter(channel=Channel.GRID, completion_due__gte=start, completion_due__lt=end),
        _community(community),
    )
    due = qs.filter(Q(completion_due__lt=now) | Q(resolved_at__isnull=False))
    return Ratio(
        numerator=due.filter(resolved_at__isnull=False, resolved_at__lte=F("completion_due")).count(),
        denominator=due.count(),
    )


@dataclass
class GridMeasures:
    month: str
    community_code: str
    community_name: str
    active_discovery: Ratio
    grid_level: Ratio
    grid_completion: Ratio

    def as_dict(self):
        data = asdict(self)
        for key in ("active_discovery", "grid_level", "grid_completion"):
            data[key] = getattr(self, key).as_dict()
        return data


def grid_measures(month, community=None, now=None) -> GridMeasures:
    """The three grid measures of the street (or of one community) for a month."""
    place = _community(community)
    return GridMeasures(
        month=month,
        community_code=place.code if place else "",
        community_name=place.name if place else _("全街道"),
        active_discovery=active_discovery(month, place),
        grid_level=grid_level_share(month, place),
        grid_completion=grid_completion(month, place, now),
    )


def grid_measures_by_community(month, now=None):
    """The three measures of every community, in code order."""
    return [grid_measures(month, community, now) for community in Community.objects.order_by("code")]
