"""Small display helpers for case pages: live deadline badges, countdowns, rates, the category picker."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from jiedao.cases import services, states
from jiedao.cases.forms import picked_category
from jiedao.cases.models import Urgency
from jiedao.cases.selectors import category_tree

register = template.Library()


@register.simple_tag
def urgency_badge(case, now=None):
    """Green / yellow / red badge computed now (not the last sweep's value)."""
    level = services.urgency_at(case, now=now or timezone.now())
    return format_html('<span class="badge badge-{}">{}</span>', level, Urgency(level).label)


@register.filter
def due_in(due, now=None):
    """'还剩 2天3小时' or '已超期 5小时' for a deadline."""
    if not due:
        return ""
    now = now or timezone.now()
    seconds = (due - now).total_seconds()
    span = abs(int(seconds))
    days, rest = divmod(span, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = _("%(d)d天%(h)d小时") % {"d": days, "h": hours}
    elif hours:
        text = _("%(h)d小时%(m)d分") % {"h": hours, "m": minutes}
    else:
        text = _("%(m)d分钟") % {"m": minutes}
    if seconds < 0:
        return _("已超期 %(span)s") % {"span": text}
    return _("还剩 %(span)s") % {"span": text}


@register.filter
def action_label(action):
    return states.action_label(action)


@register.filter
def pct(value):
    """A rate as a percentage; None means there is nothing to measure yet."""
    if value is None:
        return _("无数据")
    return f"{value * 100:.1f}%".replace(".0%", "%")


@register.filter
def num(value, digits=1):
    if value is None:
        return _("无数据")
    return f"{value:.{int(digits)}f}"


def _tree(context):

    request = context.get("request")
    cached = getattr(request, "_category_tree", None) if request is not None else None
    if cached is None:
        cached = category_tree()
        if request is not None:
            request._category_tree = cached
    return cached


def _find_path(tree, code):
    for top in tree:
        if top["code"] == code:
            return [top]
        for mid in top["children"]:
            if mid["code"] == code:
                return [top, mid]
            for leaf in mid["children"]:
                if leaf["code"] == code:
                    return [top, mid, leaf]
    return []


def _children(nodes, code):
    for node in nodes:
        if node["code"] == code:
            return node["children"]
    return []


def picker_state(tree, cat1="", cat2="", cat3="", pick="", query="", matches=()):
    """Selected chain and the options of each level; a search pick or a deeper choice wins.
    ``matches`` are what the category search found for ``query``, best first."""
    path = _find_path(tree, pick) if pick else []
    if not path and cat3:
        path = _find_path(tree, cat3)
        if path and (len(path) < 2 or path[0]["code"] != cat1 or path[1]["code"] != cat2):
            path = []
    if not path and cat2:
        path = _find_path(tree, cat2)
        if path and path[0]["code"] != cat1:
            path = []
    if not path and cat1:
        path = _find_path(tree, cat1)
    codes = [node["code"] for node in path] + ["", "", ""]
    level2 = _children(tree, codes[0]) if codes[0] else []
    level3 = _children(level2, codes[1]) if codes[1] else []
    query = (query or "").strip()
    chosen = codes[2] or codes[1] or codes[0]
    return {
        "level1": tree,
        "level2": level2,
        "level3": level3,
        "cat1": codes[0],
        "cat2": codes[1],
        "cat3": codes[2],
        "chosen": chosen,
        "chosen_path": " / ".join(node["name"] for node in path),
        "query": query,
        "matches": list(matches),
        "complete": bool(path) and not path[-1]["children"],
    }


@register.inclusion_tag("cases/_category_picker.html", takes_context=True)
def category_picker(context, selected="", errors=None, field_id="category", data=None):
    """The picker, showing ``selected`` or, for a submitted form, what was picked in ``data``."""
    if data:
        selected = picked_category(data) or selected
    state = picker_state(_tree(context), pick=selected or "")
    return {**state, "errors": errors or [], "field_id": field_id}
