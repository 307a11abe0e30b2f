"""The default delivery rules: e-mail to whoever has an address, for every kind of message the
apps send today; the group robots and SMS for the urgent kinds, switched off until an
administrator has configured them."""

from django.db import migrations

KINDS = (
    "dispatch",
    "cohandle",
    "extension",
    "whistle",
    "supervise",
    "sla_yellow",
    "sla_red",
    "rework",
    "verify",
    "merge",
    "emergency",
    "alert",
    "rectification",
    "participation",
    "open311",
)
URGENT = ("dispatch", "whistle", "supervise", "sla_red", "emergency", "alert")


def add_defaults(apps, schema_editor):
    rule = apps.get_model("messaging", "DeliveryRule")
    rows = [rule(kind=kind, channel="email", to_members=True, to_person=True, enabled=True) for kind in KINDS]
    for kind in URGENT:
        rows += [rule(kind=kind, channel=code, to_members=True, to_person=False, enabled=False) for code in ("wecom", "dingtalk")]
        rows += [rule(kind=kind, channel=code, to_members=False, to_person=True, enabled=False) for code in ("sms_http", "sms_tencent")]
    rule.objects.bulk_create(rows, ignore_conflicts=True)


def remove_defaults(apps, schema_editor):
    apps.get_model("messaging", "DeliveryRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_outbox")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
