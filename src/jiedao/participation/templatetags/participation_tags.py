from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def pct(value):
    """A rate 0..1 as a percentage; no data shows as such, never as 0 %."""
    if value is None:
        return _("无数据")
    return f"{value * 100:.1f}%"
