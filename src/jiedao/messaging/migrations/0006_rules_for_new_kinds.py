"""Delivery rules for the kinds added with the templates: the residents' messages by SMS (on: they
go out as soon as an SMS channel is configured), and e-mail for the staff kinds of the 督办,
退回, the emergency duty roster and the evaluation's warnings, with their group robots and SMS switched off until an
administrator has configured them — as the defaults of 0003."""

from django.db import migrations

RESIDENT = ("resident_receipt", "resident_result", "hall_rating")
STAFF = (
    "return_decided",
    "supervise_reply",
    "supervise_overdue",
    "emergency_duty",
    "emergency_escalate",
    "system",
    "surge",
    "sensitive",
)
URGENT = ("supervise_overdue", "emergency_duty", "emergency_escalate", "system", "sensitive")
SMS = ("sms_http", "sms_tencent")


def add_defaults(apps, schema_editor):
    rule = apps.get_model("messaging", "DeliveryRule")
    rows = [
        rule(kind=kind, channel=code, to_members=False, to_person=True, enabled=True)
        for kind in RESIDENT
        for code in SMS
    ]
    rows += [rule(kind=kind, channel="email", to_members=True, to_person=True, enabled=True) for kind in STAFF]
    for kind in URGENT:
        rows += [
            rule(kind=kind, channel=code, to_members=True, to_person=False, enabled=False)
            for code in ("wecom", "dingtalk")
        ]
        rows += [rule(kind=kind, channel=code, to_members=False, to_person=True, enabled=False) for code in SMS]
    rule.objects.bulk_create(rows, ignore_conflicts=True)


def remove_defaults(apps, schema_editor):
    apps.get_model("messaging", "DeliveryRule").objects.filter(kind__in=RESIDENT + STAFF).delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0005_templates_preferences_contacts")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
