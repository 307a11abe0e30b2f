"""Upgrading an installation keeps every message: the rows of the old table (cases'
notifications) reach messaging with their ids, recipients, texts and times, and a message
about a case leads to the case's page. Going back returns them to the old table."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from jiedao.messaging.models import Notification
from jiedao.messaging.services import notify

BEFORE = [("cases", "0009_reencode_stored_photos"), ("messaging", None)]


def migrate(targets):
    """Migrate the test database to ``targets``; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_every_message_and_links_the_case_page(street, make_case):
    case = make_case()
    u = street.users
    Notification.objects.all().delete()
    old_apps = migrate(BEFORE)
    old = old_apps.get_model("cases", "Notification")
    then = timezone.now() - dt.timedelta(days=40)
    about_case = old.objects.create(
        unit_id=street.units.committee1.pk, case_id=case.pk, kind="dispatch", message="派单"
    )
    to_person = old.objects.create(user_id=u.resident.pk, kind="participation", message="议题已被采纳")
    old.objects.filter(pk=about_case.pk).update(created_at=then)
    old.objects.filter(pk=to_person.pk).update(created_at=then, read_at=then + dt.timedelta(hours=1))

    migrate(leaves())

    assert "cases_notification" not in connection.introspection.table_names()
    rows = {n.pk: n for n in Notification.objects.all()}
    assert set(rows) == {about_case.pk, to_person.pk}
    moved = rows[about_case.pk]
    assert (moved.unit_id, moved.user_id, moved.kind, moved.message) == (
        street.units.committee1.pk,
        None,
        "dispatch",
        "派单",
    )
    assert moved.link == f"/cases/{case.number}/" and moved.created_at == then and moved.read_at is None
    person = rows[to_person.pk]
    assert (person.user_id, person.unit_id, person.link) == (u.resident.pk, None, "")
    assert person.read_at == then + dt.timedelta(hours=1)
    # New messages are numbered after the moved ones.
    (new,) = notify(user=u.resident, kind="x", message="新消息")
    assert new.pk > max(rows)

    # Going back puts them into the old table, the case found again from its page.
    old_apps = migrate(BEFORE)
    old = old_apps.get_model("cases", "Notification")
    back = {n.pk: n for n in old.objects.all()}
    assert set(back) == {about_case.pk, to_person.pk, new.pk}
    assert back[about_case.pk].case_id == case.pk and back[about_case.pk].created_at == then
    assert back[to_person.pk].case_id is None and back[to_person.pk].user_id == u.resident.pk
    migrate(leaves())
    assert Notification.objects.count() == 3
