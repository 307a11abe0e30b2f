"""What every page needs: elderly mode, the navigation for the user's roles, unread messages."""

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from jiedao.messaging.selectors import unread_notification_count
from jiedao.org.permissions import signed_in_roles

# (url name, label, roles that see it; None = everyone signed out or resident)
STAFF_LINKS = (
    ("cases:overview", _("领导总览"), ("leader", "admin")),
    ("evaluation:streets", _("街道排名"), ("district",)),
    ("evaluation:cockpit", _("驾驶舱"), ("leader", "evaluator", "admin", "district")),
    ("evaluation:library", _("考核评价"), ("leader", "evaluator", "admin", "district")),
    ("evaluation:warnings", _("整改指令"), ("handler",)),
    ("cases:dispatch", _("派单台"), ("dispatcher", "leader", "admin")),
    ("cases:intake", _("受理登记"), ("operator", "dispatcher", "admin")),
    ("cases:desk", _("话务台"), ("operator", "dispatcher", "admin")),
    ("knowledge:list", _("知识库"), tuple(sorted(signed_in_roles("knowledge.view")))),
    ("cases:workbench", _("单位工作台"), ("handler",)),
    ("geo:my_grid", _("我的网格"), ("grid",)),
    ("cases:grid_report", _("网格上报"), ("grid",)),
    ("registry:persons", _("一户一档"), ("grid", "leader", "admin", "dispatcher")),
    ("registry:assistance", _("帮扶清单"), ("grid", "leader", "admin", "dispatcher")),
    ("emergency:board", _("应急管理"), ("leader", "dispatcher", "operator", "handler", "grid", "admin")),
    ("participation:desk", _("议事工作台"), ("leader", "admin", "handler")),
    ("hall:window", _("综合窗口"), ("operator", "admin")),
    ("hall:approvals", _("审批队列"), ("handler", "leader")),
    ("common:access_log", _("访问审计"), ("admin",)),
    ("messaging:outbox", _("消息发送"), ("admin",)),
    ("intelligence:hot", _("热点问题"), ("leader", "dispatcher", "admin")),
    ("geo:map", _("一图统览"), ("leader", "dispatcher", "operator", "handler", "grid", "admin")),
)


def _links(request):
    user = request.user
    links = []
    if not user.is_authenticated or user.has_role("resident") or not (user.is_street_staff or user.sees_district):
        links.append((reverse("web:portal"), _("我要反映")))
        links.append((reverse("web:track"), _("查询进度")))
        links.append((reverse("hall:guide"), _("便民服务中心")))
        links.append((reverse("participation:home"), _("居民议事")))
    if user.is_authenticated:
        for name, label, roles in STAFF_LINKS:
            if user.has_role(*roles):
                links.append((reverse(name), label))
    # The responsibility list is public: everyone sees who is responsible for what.
    links.append((reverse("duties:public"), _("权责清单")))
    if user.is_authenticated and user.has_role("admin"):
        links.append((reverse("admin:index"), _("系统管理")))
    path = request.path
    return [
        {"url": url, "label": label, "active": path == url or (url != "/" and path.startswith(url))}
        for url, label in links
    ]


def _unread(request):
    return unread_notification_count(request.user)


def navigation(request):
    if not hasattr(request, "user"):
        return {"elderly_mode": getattr(request, "elderly_mode", False)}
    return {
        "elderly_mode": getattr(request, "elderly_mode", False),
        "nav_links": SimpleLazyObject(lambda: _links(request)),
        "unread_count": SimpleLazyObject(lambda: _unread(request)),
    }
