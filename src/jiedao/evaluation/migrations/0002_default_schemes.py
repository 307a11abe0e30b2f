"""The two scoring schemes of the policy documents."""

from django.db import migrations

SCHEMES = [
    {
        "code": "mass-satisfaction", "order": 10, "name": "群众满意度考核（40/30/30）",
        "description": "群众满意度 40%（满意率）、问题解决率 30%（居民回访确认已解决的比例）、创新指数 30%"
                       "（考核评估员按佐证材料评分）。群众评价合计 70%。",
        "normalisation": "target",
        "items": [("satisfaction_rate", 40, "群众满意度", "群众满意度"),
                  ("resolution_rate", 30, "问题解决", "问题解决率"),
                  ("innovation_index", 30, "创新", "创新指数")],
    },
    {
        "code": "balanced-scorecard", "order": 20, "name": "平衡计分卡",
        "description": "四个维度：群众（50%）、内部流程（25%）、学习与成长（15%）、效率（10%）。",
        "normalisation": "best_worst",
        "items": [("satisfaction_rate", 30, "群众", ""), ("resolution_rate", 20, "群众", ""),
                  ("response_rate", 10, "内部流程", ""), ("disposal_rate", 10, "内部流程", ""),
                  ("return_rate", 5, "内部流程", ""), ("innovation_index", 15, "学习与成长", ""),
                  ("average_handling_hours", 10, "效率", "")],
    },
]


def create(apps, schema_editor):
    Scheme = apps.get_model("evaluation", "Scheme")
    SchemeItem = apps.get_model("evaluation", "SchemeItem")
    for spec in SCHEMES:
        scheme, _created = Scheme.objects.get_or_create(code=spec["code"], defaults={
            "name": spec["name"], "description": spec["description"], "normalisation": spec["normalisation"],
            "builtin": True, "order": spec["order"]})
        if not scheme.items.exists():
            for indicator, weight, perspective, label in spec["items"]:
                SchemeItem.objects.create(scheme=scheme, indicator=indicator, weight=weight / 100,
                                          perspective=perspective, label=label)


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
