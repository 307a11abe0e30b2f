"""Notifications move to the messaging app. Every row is copied to messaging's table with its
id, recipients, kind, message and times; the case it was about becomes the case page's path
(/cases/<number>/). Then the old table is removed.

Going back moves the rows the other way: a link to a case page finds its case again."""

import re

from django.core.management.color import no_style
from django.db import migrations

BATCH = 2000
CASE_PAGE = re.compile(r"^/cases/([^/]+)/$")


def case_page(number):
    return f"/cases/{number}/"


def _reset_ids(schema_editor, model):
    """After rows were written with their ids, new rows must not reuse one (PostgreSQL's sequence)."""
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [model]):
        schema_editor.execute(sql)


def _write_in_batches(model, db, rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.using(db).bulk_create(batch)
            batch = []
    if batch:
        model.objects.using(db).bulk_create(batch)


def to_messaging(apps, schema_editor):
    old = apps.get_model("cases", "Notification")
    new = apps.get_model("messaging", "Notification")
    db = schema_editor.connection.alias
    fields = ("pk", "unit_id", "user_id", "case__number", "kind", "message", "created_at", "read_at")
    rows = old.objects.using(db).order_by("pk").values_list(*fields).iterator(chunk_size=BATCH)
    _write_in_batches(
        new,
        db,
        (
            new(
                pk=pk,
                unit_id=unit_id,
                user_id=user_id,
                link=case_page(number) if number else "",
                kind=kind,
                message=message,
                created_at=created_at,
                read_at=read_at,
            )
            for pk, unit_id, user_id, number, kind, message, created_at, read_at in rows
        ),
    )
    _reset_ids(schema_editor, new)


def to_cases(apps, schema_editor):
    old = apps.get_model("cases", "Notification")
    new = apps.get_model("messaging", "Notification")
    case = apps.get_model("cases", "Case")
    # The old column was filled on insert (auto_now_add); the rows keep the times they had.
    old._meta.get_field("created_at").auto_now_add = False
    db = schema_editor.connection.alias
    fields = ("pk", "unit_id", "user_id", "link", "kind", "message", "created_at", "read_at")
    rows = list(new.objects.using(db).order_by("pk").values_list(*fields))
    numbers = sorted({m.group(1) for m in (CASE_PAGE.match(row[3]) for row in rows) if m})
    case_ids = {}
    for start in range(0, len(numbers), BATCH):
        chunk = numbers[start : start + BATCH]
        case_ids.update(case.objects.using(db).filter(number__in=chunk).values_list("number", "pk"))

    def case_of(link):
        match = CASE_PAGE.match(link)
        return case_ids.get(match.group(1)) if match else None

    _write_in_batches(
        old,
        db,
        (
            old(
                pk=pk,
                unit_id=unit_id,
                user_id=user_id,
                case_id=case_of(link),
                kind=kind,
                message=message,
                created_at=created_at,
                read_at=read_at,
            )
            for pk, unit_id, user_id, link, kind, message, created_at, read_at in rows
        ),
    )
    new.objects.using(db).all().delete()
    _reset_ids(schema_editor, old)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_reencode_stored_photos"),
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_messaging, to_cases),
        migrations.DeleteModel(name="Notification"),
    ]
