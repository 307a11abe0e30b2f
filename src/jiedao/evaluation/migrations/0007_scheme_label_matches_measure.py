"""A warning's kind 投诉激增 is now 数量激增 (a service item's applications surge too); and the
40/30/30 scheme measured 解决率 (the residents' "resolved" at the callback) under the label
事件处置率, which is another measure of the library (事件按期处置率, disposal_rate): the item
and the description now say 问题解决率. A scheme an administrator has since edited is left
as it is."""

from django.db import migrations, models

OLD_DESCRIPTION = (
    "群众满意度 40%（满意率）、事件处置率 30%（居民回访确认已解决的比例）、创新指数 30%"
    "（考核评估员按佐证材料评分）。群众评价合计 70%。"
)
NEW_DESCRIPTION = (
    "群众满意度 40%（满意率）、问题解决率 30%（居民回访确认已解决的比例）、创新指数 30%"
    "（考核评估员按佐证材料评分）。群众评价合计 70%。"
)


def relabel(apps, schema_editor):
    Scheme = apps.get_model("evaluation", "Scheme")
    SchemeItem = apps.get_model("evaluation", "SchemeItem")
    Scheme.objects.filter(code="mass-satisfaction", description=OLD_DESCRIPTION).update(description=NEW_DESCRIPTION)
    SchemeItem.objects.filter(scheme__code="mass-satisfaction", indicator="resolution_rate", label="事件处置率").update(
        label="问题解决率", perspective="问题解决"
    )


def restore(apps, schema_editor):
    Scheme = apps.get_model("evaluation", "Scheme")
    SchemeItem = apps.get_model("evaluation", "SchemeItem")
    Scheme.objects.filter(code="mass-satisfaction", description=NEW_DESCRIPTION).update(description=OLD_DESCRIPTION)
    SchemeItem.objects.filter(scheme__code="mass-satisfaction", indicator="resolution_rate", label="问题解决率").update(
        label="事件处置率", perspective="事件处置"
    )


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0006_blue_system_warning")]
    operations = [
        migrations.AlterField(
            model_name="warning",
            name="kind",
            field=models.CharField(
                choices=[
                    ("indicator", "指标低于基线"),
                    ("surge", "数量激增"),
                    ("hot", "热点快速增长"),
                    ("system", "系统故障"),
                ],
                max_length=10,
            ),
        ),
        migrations.RunPython(relabel, restore),
    ]
