"""Reads of the knowledge base: the answers to suggest while the operator types, the list page
(with how often and how lately each answer was given), one article with its history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiedao.cases.models import Category
from jiedao.common import params
from jiedao.common import search as search_engine
from jiedao.common.errors import NotFound
from jiedao.common.selectors import vocabulary

from .models import Article, ArticleUse, ArticleVersion

# How the fields of an article weigh in the search: the question most, then its category, the
# answer, the source.
WEIGHTS = {"question": 1.0, "category": 0.6, "answer": 0.4, "source": 0.3}
# The fields of a version, as the history names what a save changed.
FIELD_LABELS = {
    "question": gettext_lazy("问题"),
    "answer": gettext_lazy("答复口径"),
    "category_id": gettext_lazy("分类"),
    "source": gettext_lazy("来源/依据"),
    "valid_until": gettext_lazy("有效期至"),
    "active": gettext_lazy("启用"),
}


def _with_uses(qs: QuerySet[Article]) -> QuerySet[Article]:
    return qs.select_related("category").annotate(uses=Count("use_log"), last_used=Max("use_log__at"))


def _rank(q: str, articles: list[Article]) -> list[Article]:
    """The articles matching ``q`` (words as people say them: the search vocabulary), best first;
    all of them, in the given order, when ``q`` is empty."""
    query = search_engine.parse(q, vocabulary())
    if query.empty:
        return articles
    docs = [
        search_engine.doc(
            a.pk,
            [
                (a.question, WEIGHTS["question"]),
                (a.category.name if a.category else "", WEIGHTS["category"]),
                (a.answer, WEIGHTS["answer"]),
                (a.source, WEIGHTS["source"]),
            ],
            a,
        )
        for a in articles
    ]
    return [d.payload for _score, d in search_engine.rank(query, docs)]


def usable(today: dt.date | None = None) -> Q:
    """Articles the desk may give on ``today``: switched on and not past their 有效期至."""
    today = today or timezone.localdate()
    return Q(active=True) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))


def search_articles(q: str, *, today: dt.date | None = None, limit: int = 5) -> list[Article]:
    """At most ``limit`` answers the desk may give today that match the words ``q`` (the product's
    one search, ``common.search``), best first, each with ``uses`` (how often it was given);
    none for an empty query. Words beyond ``params.SEARCH_MAX`` are a ``ValidationFailed``."""
    text = params.search_text(q)
    if not text:
        return []
    articles = list(_with_uses(Article.objects.filter(usable(today))).order_by("-uses", "question"))
    return _rank(text, articles)[: max(limit, 0)]


def articles(q: str = "", *, include_inactive: bool = False) -> list[Article]:
    """The list page: every article switched on (and those switched off with
    ``include_inactive``), expired ones included, each with ``uses`` and ``last_used``; matching
    ``q`` best first when there is one, else the most used first."""
    text = params.search_text(q)
    qs = Article.objects.all() if include_inactive else Article.objects.filter(active=True)
    return _rank(text, list(_with_uses(qs).order_by("-uses", "question")))


def article(article_id: int) -> Article:
    """One article with ``uses`` and ``last_used``; ``NotFound`` when there is none."""
    key = params.row_id(article_id)
    found = _with_uses(Article.objects.filter(pk=key)).first() if key else None
    if found is None:
        raise NotFound(_("知识条目不存在。"))
    return found


@dataclass
class VersionRow:
    version: ArticleVersion
    changed: list[str]  # labels of the fields this save changed (empty for the first version)


def history(article: Article) -> list[VersionRow]:
    """The article's versions, newest first, each with what it changed against the one before."""
    versions = list(
        ArticleVersion.objects.filter(article=article).select_related("category", "changed_by").order_by("number")
    )
    rows = []
    previous: ArticleVersion | None = None
    for version in versions:
        changed: list[str] = []
        if previous is not None:
            changed = [
                str(label) for name, label in FIELD_LABELS.items() if getattr(version, name) != getattr(previous, name)
            ]
        rows.append(VersionRow(version, changed))
        previous = version
    return list(reversed(rows))


def recent_uses(article: Article, *, limit: int = 10) -> list[ArticleUse]:
    """The latest uses of the article, newest first, with the case and who gave the answer."""
    return list(
        ArticleUse.objects.filter(article=article).select_related("case", "user").order_by("-at", "-pk")[:limit]
    )


def category_choices() -> list[tuple[str, str]]:
    """(code, full path) of every category switched on, for the article form: one query."""
    nodes = {c.pk: c for c in Category.objects.all().only("pk", "code", "name", "parent_id", "active")}

    def path(category: Category) -> str:
        names = [category.name]
        parent = nodes.get(category.parent_id) if category.parent_id else None
        while parent is not None:
            names.append(parent.name)
            parent = nodes.get(parent.parent_id) if parent.parent_id else None
        return " / ".join(reversed(names))

    return sorted(((c.code, path(c)) for c in nodes.values() if c.active), key=lambda choice: choice[0])
