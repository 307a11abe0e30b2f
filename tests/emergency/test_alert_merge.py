"""Machine alerts of the same device and kind while their case is open are counted on that case
instead of opening new ones (the dispatcher's queue is not flooded by a camera re-alerting every
few hours); a closed case, or another kind of alert, opens a new case. And a demo device is
filed under the grid its address names."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from jiedao.cases import services as case_services
from jiedao.cases.models import Case, CaseEvent, Status
from jiedao.demo import places
from jiedao.emergency import services
from jiedao.emergency.demo import build_emergency
from jiedao.emergency.models import Alert, Device
from jiedao.org.models import Grid
from tests.factories import WEDNESDAY

from .conftest import NOW, minutes, reading, rule

pytestmark = pytest.mark.django_db

HOURS = dt.timedelta(hours=1)


def alert_and_confirm(street, camera, event, at):
    """The camera reports ``event`` at ``at``; the operator confirms the alert ten minutes later."""
    services.ingest([reading(camera, at, event=event)], now=at)
    alert = Alert.objects.get(status="open")
    return services.decide_alert(street.users.operator, alert_id=alert.pk, confirm=True, at=at + minutes(10))


@pytest.fixture
def camera_rules():
    rule("违停", "video", "event", "违停", level="blue", outcome="case")
    rule("占道经营", "video", "event", "占道经营", level="blue", outcome="case")


def test_the_same_camera_and_kind_is_counted_on_the_open_case(street, devices, camera_rules):
    camera = devices["AI-01"]
    first = alert_and_confirm(street, camera, "违停", NOW).case
    second = alert_and_confirm(street, camera, "违停", NOW + 4 * HOURS).case
    third = alert_and_confirm(street, camera, "违停", NOW + 8 * HOURS).case
    assert first.pk == second.pk == third.pk
    assert Case.objects.filter(channel="sensor").count() == 1
    case = Case.objects.get(pk=first.pk)
    assert case.alert_count == 3
    assert case.last_alert_at == NOW + 8 * HOURS  # when the camera alerted, not when it was confirmed
    # Each repeat is in the log, in the same transaction as the count.
    repeats = list(CaseEvent.objects.filter(case=case, action="realert").order_by("seq"))
    assert [e.data["count"] for e in repeats] == [2, 3]
    assert all("违停" in e.note for e in repeats)
    assert [e.seq for e in case.events.order_by("seq")] == list(range(1, case.events.count() + 1))
    # Every alert leads to the one case.
    assert set(Alert.objects.values_list("case_id", flat=True)) == {case.pk}


def test_the_count_is_shown_on_the_case_page(street, devices, camera_rules, login):
    camera = devices["AI-01"]
    alert_and_confirm(street, camera, "违停", NOW)
    case = alert_and_confirm(street, camera, "违停", NOW + 4 * HOURS).case
    html = login(street.users.dispatcher).get(reverse("cases:case", args=[case.number])).content.decode()
    shown = re.sub(r"\s+", " ", re.search(r"data-alerts[^>]*>(.*?)</", html, re.S).group(1))
    assert "同一设备已告警 2 次" in shown and "13:30" in shown  # 09:30 + 4 h, Beijing time
    assert "同一设备再次告警" in html  # the repeat in the timeline


def test_after_the_case_is_closed_a_new_alert_opens_a_new_case(street, devices, camera_rules):
    camera = devices["AI-01"]
    first = alert_and_confirm(street, camera, "违停", NOW).case
    # The desk settles it (a closed case), then the camera sees the same again.
    case_services.settle(street.users.operator, number=first.number, outcome="answered", answer="已劝离车辆")
    assert Case.objects.get(pk=first.pk).status == Status.CLOSED
    second = alert_and_confirm(street, camera, "违停", NOW + 4 * HOURS).case
    assert second.pk != first.pk
    assert (second.alert_count, Case.objects.get(pk=first.pk).alert_count) == (1, 1)


def test_another_kind_of_alert_opens_its_own_case(street, devices, camera_rules):
    camera = devices["AI-01"]
    parking = alert_and_confirm(street, camera, "违停", NOW).case
    stall = alert_and_confirm(street, camera, "占道经营", NOW + HOURS).case
    assert parking.pk != stall.pk
    assert Case.objects.filter(channel="sensor", status="new").count() == 2
    assert Case.objects.get(pk=parking.pk).alert_count == 1


def test_another_device_opens_its_own_case(street, devices, camera_rules):
    other, token = services.register_device(
        street.users.admin, code="AI-02", name="设备AI-02", kind="video", lat=39.915, lng=116.406, address="西园路2号"
    )
    first = alert_and_confirm(street, devices["AI-01"], "违停", NOW).case
    second = alert_and_confirm(street, SimpleNamespace(device=other, token=token), "违停", NOW + HOURS).case
    assert first.pk != second.pk


def test_a_dismissed_alert_counts_nothing(street, devices, camera_rules):
    camera = devices["AI-01"]
    case = alert_and_confirm(street, camera, "违停", NOW).case
    services.ingest([reading(camera, NOW + HOURS, event="违停")], now=NOW + HOURS)
    services.decide_alert(
        street.users.operator, alert_id=Alert.objects.get(status="open").pk, confirm=False, at=NOW + 2 * HOURS
    )
    case.refresh_from_db()
    assert case.alert_count == 1 and not case.events.filter(action="realert").exists()


def test_the_case_is_filed_under_the_devices_grid(street, devices, camera_rules):
    """A device an administrator placed in a grid by hand: its cases go to that grid."""
    camera = devices["AI-01"]
    g22 = street.grids[3]
    Device.objects.filter(pk=camera.device.pk).update(grid=g22)
    camera.device.refresh_from_db()
    case = alert_and_confirm(street, camera, "违停", NOW).case
    assert case.grid == g22 and case.community == g22.community


def test_demo_devices_lie_in_the_grid_their_address_names(street):
    """The demo street's grids are narrow (about 190 m): a camera placed around its grid's
    middle fell into the next grid and its alerts named 第五网格 while filed under 第四网格."""
    community = street.communities[0]
    # The demo's narrowest community (its grids 140–190 m wide).
    _index, rects = min(places.community_geometry(), key=lambda block: block[1][0][2] - block[1][0][0])
    grids = [
        Grid.objects.create(community=community, code=f"DEMO{n}", name=name, boundary=places.polygon(*rect))
        for n, (name, rect) in enumerate(zip(places.GRID_NAMES, rects, strict=True))
    ]
    u = street.users
    users = {"admin": u.admin, "operator": u.operator, "dispatcher": u.dispatcher, "handler": u.handler}
    users.update(grid=u.grid, leader=u.leader)
    units = {"ZHZF": street.units.enforcement, "ZJ": street.units.housing, "GGFW": street.units.service}
    build_emergency(street.street, grids, units, users, WEDNESDAY)
    devices = list(Device.objects.select_related("grid__community"))
    assert len(devices) > 10
    for device in devices:
        assert device.grid is not None, device.code
        assert device.address == f"{device.grid.community.name}{device.grid.name}", device.code
    sensor_cases = list(Case.objects.filter(channel="sensor").select_related("grid"))
    assert sensor_cases
    for case in sensor_cases:
        assert f"{community.name}{case.grid.name}" in case.description, case.description
    # The cameras re-alert every four hours all day: one open case per camera and kind, counted.
    sources = [c.alert_source for c in sensor_cases if c.status in ("new", "dispatched")]
    assert len(sources) == len(set(sources))
    assert max(c.alert_count for c in sensor_cases) > 1
