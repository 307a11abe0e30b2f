"""Needs surveys (需求调查) and the community's lists: the committee publishes a survey of
questions (choices or free text), anonymous or not, and closes it; each resident of the
community answers once (``Respondent``), and the answers of an anonymous survey do not name
them; answering earns the survey points. The committee keeps the needs list (居民需求清单) and
the resources list (社区资源清单) that projects are made from."""

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors, InvalidTransition, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, User

from ..models import Need, Question, Resource, Respondent, Response, Survey
from .base import now, require_member, require_staff, text
from .points import award


@transaction.atomic
def create_survey(
    user: User,
    *,
    community: Community,
    title: str,
    questions: Iterable[tuple[str, Iterable[str]]],
    anonymous: bool = True,
) -> Survey:
    """``questions``: a list of (text, [choices]) — no choices means a free-text answer."""
    permissions.require(user, "participation.projects")
    require_staff(user, community=community)
    errors = FieldErrors()
    title = text(errors, field="title", value=title, label=_("名称"), max_length=100)
    questions = [
        (str(question).strip(), [str(c).strip() for c in (choices or []) if str(c).strip()])
        for question, choices in questions
        if str(question).strip()
    ]
    if not questions:
        errors.add("questions", _("请至少填写一个问题。"))
    errors.raise_if_any()
    survey = Survey.objects.create(community=community, title=title, anonymous=anonymous)
    Question.objects.bulk_create(
        [
            Question(survey=survey, text=question[:200], choices=choices, position=i)
            for i, (question, choices) in enumerate(questions)
        ]
    )
    return survey


@transaction.atomic
def answer_survey(user: User, *, survey_id: int, answers: dict, at: dt.datetime | None = None) -> Survey:
    """One answer per resident; for an anonymous survey the answers do not name the resident."""
    permissions.require(user, "participation.survey")
    survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
    if survey is None:
        raise NotFound()
    if not survey.is_open:
        raise InvalidTransition(_("调查已结束。"))
    require_member(user, community=survey.community_id)
    errors = FieldErrors()
    clean = {}
    for question in survey.questions.all():
        value = str(answers.get(str(question.pk), answers.get(question.pk, "")) or "").strip()
        if question.choices and value and value not in question.choices:
            errors.add(f"q{question.pk}", _("请从选项中选择。"))
        clean[str(question.pk)] = value[:500]
    if not any(clean.values()):
        errors.add("answers", _("请至少回答一个问题。"))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            Respondent.objects.create(survey=survey, user=user)
    except IntegrityError:
        raise ValidationFailed("survey", _("您已经填写过这份调查。")) from None
    Response.objects.create(survey=survey, user=None if survey.anonymous else user, answers=clean, at=now(at))
    award(
        user, code="survey", reason=_("参与%(title)s") % {"title": survey.title}, community=survey.community_id, at=at
    )
    return survey


@transaction.atomic
def close_survey(user: User, *, survey_id: int) -> Survey:
    permissions.require(user, "participation.projects")
    survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
    if survey is None:
        raise NotFound()
    require_staff(user, community=survey.community_id)
    survey.is_open = False
    survey.save(update_fields=["is_open"])
    return survey


@transaction.atomic
def add_need(
    user: User,
    *,
    community: Community,
    title: str,
    demand: int = 1,
    survey: Survey | None = None,
    at: dt.datetime | None = None,
) -> Need:
    permissions.require(user, "participation.projects")
    require_staff(user, community=community)
    errors = FieldErrors()
    title = text(errors, field="title", value=title, label=_("需求"), max_length=100)
    if not isinstance(demand, int) or demand < 1:
        errors.add("demand", _("提出人数应为正整数。"))
    errors.raise_if_any()
    return Need.objects.create(community=community, title=title, demand=demand, survey=survey, created_at=now(at))


@transaction.atomic
def add_resource(user: User, *, community: Community, name: str, provider: str = "") -> Resource:
    permissions.require(user, "participation.projects")
    require_staff(user, community=community)
    errors = FieldErrors()
    name = text(errors, field="name", value=name, label=_("资源"), max_length=100)
    errors.raise_if_any()
    return Resource.objects.create(community=community, name=name, provider=(provider or "").strip()[:100])
