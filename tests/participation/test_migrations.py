"""Upgrading an installation keeps the history of adopted proposals' actions: the events written
before an action's events named their columns like every other event log are there afterwards,
with their action, what happened, progress, note and time — and the way back keeps them too."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from jiedao.participation import services
from jiedao.participation.models import ActionEvent

BEFORE = [("participation", "0004_reencode_stored_photos")]
AFTER = [("participation", "0005_action_event_names")]


def migrate(targets):
    """Migrate the test database to ``targets``; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_the_events_of_tracked_actions(people):
    proposal = services.table_topic(people.staff, community=people.dong, title="东门加装座椅", body="方便老人")
    then = timezone.now() - dt.timedelta(days=20)
    old_apps = migrate(BEFORE)
    Action = old_apps.get_model("participation", "Action")
    OldEvent = old_apps.get_model("participation", "ActionEvent")
    action = Action.objects.create(
        proposal_id=proposal.pk, owner_name="刘主任", due=timezone.localdate(), created_at=then
    )
    OldEvent.objects.create(
        action_id=action.pk, kind="create", progress=0, actor_id=people.staff.pk, note="刘主任", at=then
    )
    OldEvent.objects.create(action_id=action.pk, kind="progress", progress=40, note="已下单", at=then)

    migrate(AFTER)
    rows = list(
        ActionEvent.objects.filter(item_id=action.pk).values_list("action", "progress", "actor_id", "note", "at")
    )
    assert rows == [("create", 0, people.staff.pk, "刘主任", then), ("progress", 40, None, "已下单", then)]

    old_apps = migrate(BEFORE)
    back = old_apps.get_model("participation", "ActionEvent").objects.filter(action_id=action.pk)
    assert sorted(back.values_list("kind", "progress")) == [("create", 0), ("progress", 40)]
    migrate(leaves())
    assert ActionEvent.objects.filter(item_id=action.pk).count() == 2
