"""``{{ text|mask_personal }}``: free text with the phones and identity numbers in it masked
(``common.masking.mask_personal_text``); ``{{ text|mask_personal:masked }}`` masks only when
``masked`` is true (the reader sees the writer's data masked). Mask before truncating, so that
a cut never leaves part of a number readable: ``{{ case.description|mask_personal|truncatechars:40 }}``."""

from django import template

from jiedao.common.masking import mask_personal_text

register = template.Library()


@register.filter(is_safe=True)
def mask_personal(value, masked=True):
    text = "" if value is None else value
    return mask_personal_text(str(text)) if masked else text
