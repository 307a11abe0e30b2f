"""The special-care groups (重点关怀人群) a street starts with; the list is editable."""

from django.db import migrations

TAGS = [
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


def add_tags(apps, schema_editor):
    CareTag = apps.get_model("registry", "CareTag")
    for code, name, description, order in TAGS:
        CareTag.objects.get_or_create(code=code, defaults={"name": name, "description": description, "order": order})


def remove_tags(apps, schema_editor):
    CareTag = apps.get_model("registry", "CareTag")
    CareTag.objects.filter(code__in=[code for code, *_rest in TAGS], persons=None).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(add_tags, remove_tags)]
