"""Rules of 智能分拨 that both its services and its selectors read: the names of the
reply-quality flags (答复质量) shown on a case."""

from django.utils.translation import gettext as _

FLAG_LABELS = {
    "off_topic": "答复与诉求内容关联度低",
    "no_action": "未写明具体措施",
    "no_date": "未写明时间",
    "template": "答复为模板套话（本单位多次使用相同答复）",
}


def flag_label(flag):
    return _(FLAG_LABELS.get(flag, flag))
