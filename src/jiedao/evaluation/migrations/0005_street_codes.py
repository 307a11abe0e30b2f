"""Street results, warnings and evidence written before an installation could hold several
streets carry the street scope code "": they become the code of the installation's one street."""

from django.db import migrations


def street_codes(apps, schema_editor):
    Street = apps.get_model("org", "Street")
    streets = list(Street.objects.values_list("code", flat=True)[:2])
    if len(streets) != 1:
        return
    code = streets[0]
    for name in ("Result", "Warning", "EvidenceScore"):
        model = apps.get_model("evaluation", name)
        model.objects.filter(scope_kind="street", scope_code="").update(scope_code=code)
    apps.get_model("evaluation", "Snapshot").objects.filter(key="hot_issues").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("evaluation", "0004_daily_count_street"),
        ("org", "0003_user_district"),
    ]

    operations = [migrations.RunPython(street_codes, migrations.RunPython.noop)]
