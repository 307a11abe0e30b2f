"""The demo's 应急管理: devices with a simulated day of readings whose anomalies raise
alerts, two past emergencies with full timelines, depots, agreements and drills."""

import pytest

from jiedao.emergency import selectors
from jiedao.emergency.demo import build_emergency
from jiedao.emergency.models import Alert, Depot, Device, Drill, Emergency, Post, Reading
from jiedao.registry.demo import build_registry
from tests.factories import WEDNESDAY

pytestmark = pytest.mark.django_db


def test_build_emergency_on_the_test_street(street):
    build_registry(street.street, street.grids, WEDNESDAY, households=200)
    u = street.users
    users = {
        "admin": u.admin,
        "operator": u.operator,
        "dispatcher": u.dispatcher,
        "handler": u.handler,
        "grid": u.grid,
        "leader": u.leader,
    }
    units = {
        "ZHZF": street.units.enforcement,
        "ZJ": street.units.housing,
        "GGFW": street.units.service,
        "JWH01": street.units.committee1,
    }
    counts = build_emergency(street.street, street.grids, units, users, WEDNESDAY)
    assert counts["devices"] == Device.objects.count() > 10
    assert Reading.objects.count() == counts["readings"] > 1000
    assert Post.objects.filter(level="centre").count() == 1
    assert Post.objects.filter(level="point").count() == len(street.grids)
    # The anomalies of the day raised alerts: the rising water (red), the pH dip (yellow), the silent meter (blue).
    levels = set(Alert.objects.values_list("level", flat=True))
    assert {"red", "yellow", "blue"} <= levels
    assert Alert.objects.filter(status="open").exists()
    assert selectors.alert_accuracy()["decided"] > 0
    # Two past emergencies, each through all four stages.
    past = list(Emergency.objects.filter(status="closed").order_by("reported_at"))
    assert len(past) == 2
    for emergency in past:
        actions = list(emergency.events.values_list("action", flat=True))
        for step in ("report", "dispatch", "arrive", "engage", "recover", "close"):
            assert step in actions
    measures = {e.kind: selectors.measures(e) for e in past}
    assert measures["flood"].disposal_on_time is True
    assert measures["gas"].disposal_on_time is False
    assert Depot.objects.count() >= 2
    assert all(d.rate is not None for d in selectors.depots(u.leader))
    assert Drill.objects.filter(status="done").exists()
    assert build_emergency(street.street, street.grids, units, users, WEDNESDAY) == {"skipped": True}
