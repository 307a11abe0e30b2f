"""Pages of the knowledge base: the list with its search, 新增 and 修改, an article with its
history, and the suggestions the intake page shows while the operator types."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from jiedao.common import params
from jiedao.common.errors import NotFound, ValidationFailed
from jiedao.common.forms import apply_errors
from jiedao.common.throttle import Limit, limited
from jiedao.org import permissions
from jiedao.org.permissions import permission
from jiedao.web.access import role_required

from . import selectors, services
from .forms import ArticleForm, SearchForm

# Who reads the knowledge base and who keeps it: the permission table's roles.
VIEW_ROLES = tuple(sorted(permissions.signed_in_roles("knowledge.view")))
EDIT_ROLES = tuple(sorted(permissions.signed_in_roles("knowledge.edit")))
# The intake desk, where the suggestions are shown while the caller's words are typed.
SUGGEST_ROLES = ("operator", "dispatcher", "admin")


def _article_or_404(article_id):
    try:
        return selectors.article(article_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


@role_required(*VIEW_ROLES)
@require_GET
@limited(Limit("SEARCH_RATE"))
def article_list(request):
    form = SearchForm(request.GET or None)
    q, include_inactive = "", False
    if form.is_valid():
        q, include_inactive = form.cleaned_data["q"].strip(), form.cleaned_data["all"]
    try:
        rows = selectors.articles(q, include_inactive=include_inactive)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        q, rows = "", selectors.articles("", include_inactive=include_inactive)
    return render(
        request,
        "knowledge/list.html",
        {
            "q": q,
            "include_inactive": include_inactive,
            "rows": rows,
            "may_edit": permissions.allows(request.user, "knowledge.edit"),
        },
    )


@role_required(*VIEW_ROLES)
@require_GET
def article_detail(request, article_id):
    article = _article_or_404(article_id)
    return render(
        request,
        "knowledge/article.html",
        {
            "article": article,
            "history": selectors.history(article),
            "recent_uses": selectors.recent_uses(article),
            "may_edit": permissions.allows(request.user, "knowledge.edit"),
        },
    )


def _edit(request, article=None):
    categories = selectors.category_choices()
    if request.method == "POST":
        form = ArticleForm(request.POST, categories=categories)
    else:
        initial = None
        if article is not None:
            initial = {
                "question": article.question,
                "answer": article.answer,
                "category": article.category.code if article.category else "",
                "source": article.source,
                "valid_until": article.valid_until.isoformat() if article.valid_until else "",
                "active": article.active,
            }
        form = ArticleForm(initial=initial, categories=categories)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.save_article(
                    request.user, article_id=article.pk if article else None, **form.service_kwargs()
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            except NotFound as exc:
                raise Http404(exc.message) from None
            else:
                if article is None:
                    messages.success(request, _("已新增知识条目“%(q)s”。") % {"q": saved.question})
                else:
                    messages.success(request, _("已保存对“%(q)s”的修改。") % {"q": saved.question})
                return redirect("knowledge:article", article_id=saved.pk)
        status = 422
    return render(request, "knowledge/edit.html", {"form": form, "article": article}, status=status)


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
@permission("knowledge.edit")
def article_new(request):
    return _edit(request)


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
@permission("knowledge.edit")
def article_edit(request, article_id):
    return _edit(request, _article_or_404(article_id))


@role_required(*SUGGEST_ROLES)
@require_GET
@limited(Limit("SEARCH_RATE"))
def suggest(request):
    """Answers for the caller's words (``q``), for the intake page to show while they are typed:
    nothing for no words, a short hint when nothing matches."""
    # The intake page sends its description box as it is (``description``).
    q = (request.GET.get("q") or request.GET.get("description") or "").strip()[: params.SEARCH_MAX]
    if not q:
        return HttpResponse("")
    found = selectors.search_articles(q, today=timezone.localdate())
    return render(request, "knowledge/_suggest.html", {"q": q, "articles": found})
