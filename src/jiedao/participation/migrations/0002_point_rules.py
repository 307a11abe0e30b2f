from django.db import migrations

RULES = [
    ("attend", "参加协商议事会", 5),
    ("adopted", "提案被采纳", 20),
    ("survey", "参与需求调查", 2),
]


def add_rules(apps, schema_editor):
    PointRule = apps.get_model("participation", "PointRule")
    for code, label, points in RULES:
        PointRule.objects.get_or_create(code=code, defaults={"label": label, "points": points})


class Migration(migrations.Migration):
    dependencies = [("participation", "0001_initial")]
    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
