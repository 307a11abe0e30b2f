"""Care tags (关怀标签): the special-care groups a person belongs to, which make up the
assistance list (帮扶清单) and the visit measure.

- The street starts with ``DEFAULT_TAGS`` (also written by the migration); administrators
  add or retire tags in the admin. Only active tags are given to a person, named by code
  or by name.
- Tagging is editing: the grid workers of the person's grid, the community's staff and
  administrators. Tagging twice keeps the first tag (who added it, when, from which source).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import User

from ..models import CareTag, Person, PersonTag
from .merging import clean_source, manual_source
from .persons import person_or_404, require_edit

DEFAULT_TAGS = [
    ("alone_elderly", "独居老人", "独自居住的60岁以上老人", 10),
    ("empty_nest", "空巢老人", "子女不在身边的老人家庭", 20),
    ("disabled", "残疾人", "持残疾人证", 30),
    ("subsistence", "低保", "享受最低生活保障", 40),
    ("chronic", "慢性病", "需定期随访的慢性病患者", 50),
    ("key_person", "重点人员", "需重点关注的人员", 60),
    ("left_behind_child", "留守儿童", "父母外出、由他人照看的未成年人", 70),
    ("special_hardship", "特困供养", "特困人员救助供养对象", 80),
    ("veteran", "优抚对象", "退役军人及其他优抚对象", 90),
]


def _tag(value):
    tag = (
        CareTag.objects.filter(active=True).filter(code=value).first()
        or CareTag.objects.filter(active=True, name=value).first()
    )
    if tag is None:
        raise ValidationFailed("tag", _("关怀标签“%(tag)s”不存在或已停用。") % {"tag": value})
    return tag


@transaction.atomic
def tag_person(user: User, *, person_id: int, tag: str, source: str | None = None) -> Person:
    permissions.require(user, "registry.edit")
    person = person_or_404(user, person_id=person_id)
    require_edit(user, person=person)
    care = _tag(tag)
    PersonTag.objects.get_or_create(
        person=person,
        tag=care,
        defaults={
            "added_by": user,
            "source": clean_source(source, fallback=manual_source(user)),
            "added_at": timezone.now(),
        },
    )
    return person


@transaction.atomic
def untag_person(user: User, *, person_id: int, tag: str) -> Person:
    permissions.require(user, "registry.edit")
    person = person_or_404(user, person_id=person_id)
    require_edit(user, person=person)
    care = CareTag.objects.filter(code=tag).first() or CareTag.objects.filter(name=tag).first()
    if care is None:
        raise ValidationFailed("tag", _("关怀标签“%(tag)s”不存在。") % {"tag": tag})
    PersonTag.objects.filter(person=person, tag=care).delete()
    return person


def ensure_default_tags() -> dict[str, CareTag]:
    """The special-care groups a street starts with (also written by the migration)."""
    for code, name, description, order in DEFAULT_TAGS:
        CareTag.objects.get_or_create(code=code, defaults={"name": name, "description": description, "order": order})
    return {t.code: t for t in CareTag.objects.all()}
