"""Neighbourhood projects (民生项目) and the yearly vote: the committee makes projects of the
library from the community's needs and resources, opens the year's vote on candidates from the
library (a total budget, a minimum and a maximum of choices per voter), residents cast one
ballot each (between the minimum and the maximum, costing at most the budget together), and
closing the vote — the system's moves — selects candidates in order of votes (then the
cheaper first) while the budget lasts and drops the rest. Selected projects are delivered:
started, residents served recorded, finished.

Every move goes through ``states.PROJECT``, which writes the event in the same transaction."""

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common.errors import FieldErrors, InvalidTransition, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, User

from ..models import Ballot, Need, Project, ProjectStatus, Resource, VoteRound
from ..states import PROJECT
from .base import now, require_member, require_staff, text


def _locked_project(project_id) -> Project:
    project = Project.objects.select_for_update().filter(pk=getattr(project_id, "pk", project_id)).first()
    if project is None:
        raise NotFound(_("项目不存在。"))
    return project


@transaction.atomic
def create_project(
    user: User,
    *,
    community: Community,
    title: str,
    cost: int,
    description: str = "",
    need_ids: Iterable[int] = (),
    resource_ids: Iterable[int] = (),
    at: dt.datetime | None = None,
) -> Project:
    """A project of the library, matching needs of the community with its resources."""
    permissions.require(user, "participation.projects")
    require_staff(user, community=community)
    errors = FieldErrors()
    title = text(errors, field="title", value=title, label=_("项目"), max_length=100)
    if not isinstance(cost, int) or cost < 1:
        errors.add("cost", _("预算应为正整数（元）。"))
    needs = list(Need.objects.filter(pk__in=list(need_ids), community=community))
    if len(needs) != len(set(need_ids)):
        errors.add("needs", _("只能对应本社区的需求。"))
    resources = list(Resource.objects.filter(pk__in=list(resource_ids), community=community))
    if len(resources) != len(set(resource_ids)):
        errors.add("resources", _("只能使用本社区的资源。"))
    errors.raise_if_any()
    moment = now(at)
    project = Project.objects.create(
        community=community, title=title, cost=cost, description=(description or "").strip(), created_at=moment
    )
    project.needs.set(needs)
    project.resources.set(resources)
    PROJECT.record(project, "create", user, before="", at=moment)
    return project


@transaction.atomic
def open_vote(
    user: User,
    *,
    community: Community,
    year: int,
    budget: int,
    project_ids: Iterable[int],
    min_choices: int = 1,
    max_choices: int = 3,
    at: dt.datetime | None = None,
) -> VoteRound:
    """The yearly vote: candidates from the library, a total budget, min/max choices per voter."""
    permissions.require(user, "participation.projects")
    require_staff(user, community=community)
    projects = list(
        Project.objects.select_for_update().filter(pk__in=list(project_ids), community=community).order_by("pk")
    )
    for project in projects:  # the state of each candidate first (409), then the vote's rules (422)
        PROJECT.check(user, project, "nominate")
    errors = FieldErrors()
    if len(projects) < 2 or len(projects) != len(set(project_ids)):
        errors.add("projects", _("请选择至少两个本社区的项目作为候选。"))
    if not isinstance(budget, int) or budget < 1:
        errors.add("budget", _("总预算应为正整数（元）。"))
    if not (isinstance(min_choices, int) and isinstance(max_choices, int) and 1 <= min_choices <= max_choices):
        errors.add("max_choices", _("每人至少选的数目不能大于至多选的数目。"))
    elif projects and max_choices > len(projects):
        errors.add("max_choices", _("每人至多选的数目不能超过候选项目数。"))
    try:
        year = params.parse_year(year, "year")
    except ValidationFailed as exc:
        errors.add("year", exc.errors[0]["message"])
    else:
        if VoteRound.objects.filter(community=community, year=year).exists():
            errors.add("year", _("该社区本年度已经组织过投票。"))
    errors.raise_if_any()
    round_ = VoteRound.objects.create(
        community=community, year=year, budget=budget, min_choices=min_choices, max_choices=max_choices
    )
    round_.candidates.set(projects)
    moment = now(at)
    for project in projects:
        project.votes = 0
        PROJECT.take(user, project, "nominate", note=str(year), at=moment, save_fields=("votes",))
    return round_


@transaction.atomic
def cast_ballot(user: User, *, round_id: int, project_ids: Iterable[int], at: dt.datetime | None = None) -> Ballot:
    """One ballot per resident: between min and max candidates, costing at most the budget."""
    permissions.require(user, "participation.vote")
    round_ = VoteRound.objects.select_for_update().filter(pk=round_id).first()
    if round_ is None:
        raise NotFound()
    if not round_.is_open:
        raise InvalidTransition(_("投票已结束。"))
    require_member(user, community=round_.community_id)
    chosen = {int(p) for p in project_ids}
    candidates = {p.pk: p for p in round_.candidates.all()}
    if not chosen <= set(candidates):
        raise ValidationFailed("projects", _("只能选择候选项目。"))
    if not round_.min_choices <= len(chosen) <= round_.max_choices:
        raise ValidationFailed(
            "projects", _("请选择 %(min)s 到 %(max)s 个项目。") % {"min": round_.min_choices, "max": round_.max_choices}
        )
    total = sum(candidates[p].cost for p in chosen)
    if total > round_.budget:
        raise ValidationFailed(
            "projects",
            _("所选项目合计 %(total)s 元，超过总预算 %(budget)s 元。") % {"total": total, "budget": round_.budget},
        )
    try:
        with transaction.atomic():
            ballot = Ballot.objects.create(round=round_, user=user, at=now(at))
    except IntegrityError:
        raise ValidationFailed("projects", _("您已经投过票了。")) from None
    ballot.projects.set(chosen)
    Project.objects.filter(pk__in=chosen).update(votes=F("votes") + 1)
    return ballot


@transaction.atomic
def close_vote(user: User, *, round_id: int, at: dt.datetime | None = None) -> VoteRound:
    """Candidates are taken in order of votes while the budget lasts; the rest are not selected."""
    permissions.require(user, "participation.projects")
    round_ = VoteRound.objects.select_for_update().filter(pk=round_id).first()
    if round_ is None:
        raise NotFound()
    if not round_.is_open:
        raise InvalidTransition(_("投票已结束。"))
    require_staff(user, community=round_.community_id)
    moment = now(at)
    left = round_.budget
    for project in round_.candidates.select_for_update().order_by("-votes", "cost", "pk"):
        selected = project.votes > 0 and project.cost <= left
        if selected:
            left -= project.cost
        PROJECT.by_system(
            user, project, "select" if selected else "drop", note=_("%(n)s 票") % {"n": project.votes}, at=moment
        )
    round_.is_open = False
    round_.closed_at = moment
    round_.save(update_fields=["is_open", "closed_at"])
    return round_


@transaction.atomic
def project_step(
    user: User,
    *,
    project_id: int,
    action: str,
    served: int = 0,
    note: str = "",
    at: dt.datetime | None = None,
) -> Project:
    """Delivery: start, record how many residents were served, finish."""
    permissions.require(user, "participation.projects")
    project = _locked_project(project_id)
    moment = now(at)
    if action == "serve":
        if project.status != ProjectStatus.DELIVERING:
            raise InvalidTransition(_("项目开始服务后才能登记服务人次。"))
        require_staff(user, community=project.community_id)
        if not isinstance(served, int) or served < 1:
            raise ValidationFailed("served", _("服务人次应为正整数。"))
        project.served += served
        project.save(update_fields=["served"])
        PROJECT.record(project, "serve", user, note=str(served), at=moment)
        return project
    PROJECT.take(user, project, action, note=note, at=moment)
    return project
