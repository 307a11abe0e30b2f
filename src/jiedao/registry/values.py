"""The words a form, the API or an imported file may use for a coded value of the registry.

Each table maps what a person types (the Chinese label, a common synonym such as 妻子 for
配偶, or the stored code itself) to the stored code: 性别, 与户主关系, 居住状态, 房屋用途.
Care tags in one cell are separated by any of ``TAG_SEPARATORS``. Pure rules: the person
services and the file import both read them."""

from .models import House, Person

GENDERS = {
    "男": Person.Gender.MALE,
    "女": Person.Gender.FEMALE,
    "male": Person.Gender.MALE,
    "female": Person.Gender.FEMALE,
    "m": Person.Gender.MALE,
    "f": Person.Gender.FEMALE,
}
RELATIONS = {str(label): code for code, label in Person.Relation.choices}
RELATIONS.update(
    {
        "本人": Person.Relation.HEAD,
        "妻子": Person.Relation.SPOUSE,
        "丈夫": Person.Relation.SPOUSE,
        "儿子": Person.Relation.CHILD,
        "女儿": Person.Relation.CHILD,
        "孙子": Person.Relation.GRANDCHILD,
        "孙女": Person.Relation.GRANDCHILD,
        "外孙": Person.Relation.GRANDCHILD,
        "外孙女": Person.Relation.GRANDCHILD,
        "父亲": Person.Relation.PARENT,
        "母亲": Person.Relation.PARENT,
    }
)
RELATIONS.update({code: code for code in Person.Relation.values})
STATUSES = {str(label): code for code, label in Person.Status.choices}
STATUSES.update({code: code for code in Person.Status.values})
USES = {str(label): code for code, label in House.Use.choices}
USES.update({code: code for code in House.Use.values})
TAG_SEPARATORS = "、,，;；/ "


def choices_text(choices) -> str:
    """The labels of a model's choices as one list for a message: ``本人、配偶、子女…``."""
    return "、".join(str(label) for _code, label in choices)
