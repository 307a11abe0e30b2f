"""Delivery rules for the deadline sweep's reminders (cases.reminders): e-mail to whoever has an
address; the group robots and SMS for the overdue and missed-report kinds, switched off until an
administrator has configured them — as the defaults of 0003."""

from django.db import migrations

KINDS = ("response_soon", "overdue", "report_soon", "report_missed")
URGENT = ("overdue", "report_missed")


def add_defaults(apps, schema_editor):
    rule = apps.get_model("messaging", "DeliveryRule")
    rows = [rule(kind=kind, channel="email", to_members=True, to_person=True, enabled=True) for kind in KINDS]
    for kind in URGENT:
        rows += [
            rule(kind=kind, channel=code, to_members=True, to_person=False, enabled=False)
            for code in ("wecom", "dingtalk")
        ]
        rows += [
            rule(kind=kind, channel=code, to_members=False, to_person=True, enabled=False)
            for code in ("sms_http", "sms_tencent")
        ]
    rule.objects.bulk_create(rows, ignore_conflicts=True)


def remove_defaults(apps, schema_editor):
    apps.get_model("messaging", "DeliveryRule").objects.filter(kind__in=KINDS).delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_default_rules")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
