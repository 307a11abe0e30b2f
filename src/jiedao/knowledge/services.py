"""Writes of the knowledge base: saving an article (with its version, in the same transaction)
and recording that an article's answer was given."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.cases.models import Case, Category
from jiedao.common import params
from jiedao.common.errors import FieldErrors, NotFound, ValidationFailed
from jiedao.org import permissions

from .models import Article, ArticleUse, ArticleVersion

# The fields an article keeps in each version, in the order the history shows them.
VERSIONED = ("question", "answer", "category_id", "source", "valid_until", "active")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _valid_until(errors: FieldErrors, value, *, new: bool, today: dt.date) -> dt.date | None:
    """The 有效期至 as a date (empty: the answer holds until changed), or None with an error."""
    label = _("有效期至")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            errors.add("valid_until", _("有效期至应为一个真实的日期，格式如 2026-12-31。"))
            return None
    try:
        params.check_date(value, "valid_until", label=label)
    except ValidationFailed as exc:
        errors.add("valid_until", exc.errors[0]["message"])
        return None
    if new and value < today:
        errors.add("valid_until", _("有效期至不能早于今天（%(today)s）。") % {"today": today.isoformat()})
        return None
    return value


def _category(errors: FieldErrors, code: str) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code).first()
    if category is None:
        errors.add("category", _("分类“%(code)s”不存在，请从列表中选择分类。") % {"code": code[:20]})
    return category


@transaction.atomic
def save_article(
    user,
    *,
    article_id: int | None = None,
    question: str,
    answer: str,
    category_code: str = "",
    source: str = "",
    valid_until: dt.date | str | None = None,
    active: bool = True,
) -> Article:
    """Create an article (``article_id`` None) or change one. Every field is checked at once
    (``ValidationFailed`` naming each field); a save that changes something writes the next
    ``ArticleVersion`` in the same transaction, one that changes nothing writes nothing."""
    permissions.require(user, "knowledge.edit")
    article = None
    if article_id is not None:
        key = params.row_id(article_id)
        article = Article.objects.select_for_update().filter(pk=key).first() if key else None
        if article is None:
            raise NotFound(_("知识条目不存在。"))
    errors = FieldErrors()
    today = timezone.localdate()
    question, answer, source = _text(question), _text(answer), _text(source)
    if not question:
        errors.add("question", _("请填写问题，如：老年人优待证在哪里办理？"))
    params.check_length(errors, "question", question, Article._meta.get_field("question"), _("问题"))
    if not answer:
        errors.add("answer", _("请填写答复口径，即接线员答复群众的话。"))
    params.check_length(errors, "answer", answer, Article._meta.get_field("answer"), _("答复口径"))
    params.check_length(errors, "source", source, Article._meta.get_field("source"), _("来源/依据"))
    category = _category(errors, _text(category_code))
    until = _valid_until(errors, valid_until, new=article is None, today=today)
    errors.raise_if_any()

    now = timezone.now()
    values = {
        "question": question,
        "answer": answer,
        "category_id": category.pk if category else None,
        "source": source,
        "valid_until": until,
        "active": bool(active),
    }
    if article is None:
        article = Article.objects.create(**values, created_by=user, created_at=now, updated_by=user, updated_at=now)
        number = 1
    else:
        if all(getattr(article, name) == value for name, value in values.items()):
            return article
        for name, value in values.items():
            setattr(article, name, value)
        article.updated_by, article.updated_at = user, now
        article.save()
        number = (article.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    ArticleVersion.objects.create(article=article, number=number, changed_by=user, changed_at=now, **values)
    return article


@transaction.atomic
def record_use(user, *, article_id: int, case: Case | None) -> ArticleUse:
    """Record that ``user`` gave the article's answer, on ``case`` (the call's case, when there
    is one). An article switched off or past its 有效期至 may not be given."""
    permissions.require(user, "knowledge.view")
    key = params.row_id(article_id)
    article = Article.objects.filter(pk=key).first() if key else None
    if article is None:
        raise ValidationFailed("article", _("所选的知识库答复不存在，请重新选择。"))
    if not article.active:
        raise ValidationFailed("article", _("知识库答复“%(q)s”已停用，不能引用。") % {"q": article.question})
    if article.expired_on(timezone.localdate()):
        raise ValidationFailed(
            "article",
            _("知识库答复“%(q)s”已过有效期（%(day)s），请核实后更新再引用。")
            % {"q": article.question, "day": article.valid_until.isoformat() if article.valid_until else ""},
        )
    return ArticleUse.objects.create(article=article, case=case, user=user, at=timezone.now())
