"""What the pages of 多元共治 share: the tabs, the community a resident belongs to or a staff
member runs, and ``run``, which takes one action of a page through its form and its service."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from jiedao.common.errors import DomainError
from jiedao.common.forms import apply_errors

from .. import rules, selectors

STAFF_ROLES = ("handler", "leader", "admin", "dispatcher", "operator", "grid")
PAGE = 30


def run(form, action: Callable[[dict], object]) -> tuple[object, int | None]:
    """Take one action of a page: when the form is valid, ``action(cleaned_data)`` calls the
    service. Returns (what the service returned, None) when it went through; else (None, the
    HTTP status to show the page again with), the form carrying its errors and the typed input
    (422 for the form's own errors, the domain error's status for the service's)."""
    if not form.is_valid():
        return None, 422
    try:
        return action(form.cleaned_data), None
    except DomainError as exc:
        apply_errors(form, exc)
        return None, exc.http_status


def page_action(request, actions, default: str | None = None) -> str:
    """The action a page's form names (its ``op`` button or hidden field): one of ``actions``,
    else ``default``; a page without such an action answers 404."""
    op = request.POST.get("op", "")
    if op in actions:
        return op
    if default is not None:
        return default
    raise Http404


def member_community(user):
    member = rules.membership(user)
    return member.community if member else None


def resident_tabs(active):
    tabs = [
        ("home", _("议题征集")),
        ("meetings", _("议事会报名")),
        ("vote", _("项目投票")),
        ("volunteer", _("志愿服务")),
        ("points", _("我的积分")),
        ("decisions", _("议事结果公开")),
    ]
    return [{"url": reverse(f"participation:{name}"), "label": label, "active": name == active} for name, label in tabs]


def staff_tabs(active, community):
    tabs = [("desk", _("议事工作台")), ("projects_desk", _("民生项目")), ("points_desk", _("积分与志愿"))]
    query = f"?community={community.code}" if community else ""
    return [
        {"url": reverse(f"participation:{name}") + query, "label": label, "active": name == active}
        for name, label in tabs
    ]


def staff_community(request):
    """The community whose desk the page shows (``?community=``, or the hidden field of a form
    posted to it), among those the user runs; 403 when the user runs none."""
    allowed = selectors.runnable_communities(request.user)
    code = request.GET.get("community") or request.POST.get("community")
    community = allowed.filter(code=code).first() if code else allowed.first()
    if community is None:
        raise PermissionDenied
    return community, allowed


def desk_url(name, community):
    return f"{reverse(f'participation:{name}')}?community={community.code}"
