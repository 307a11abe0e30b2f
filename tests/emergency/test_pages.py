"""The pages: the board shows the three-colour warnings and lets the operator decide an
alert; the event page shows the stages and its live part refreshes; the grid worker's
checklist works on the phone; supplies, drills and devices pages show their figures."""

import datetime as dt

import pytest

from jiedao.emergency import services
from jiedao.emergency.models import Alert, CareCheck, Depot, Stock

from .conftest import NOW, minutes, reading, rule

pytestmark = pytest.mark.django_db


def test_board_shows_warnings_and_decides_an_alert(street, devices, login):
    rule("违停", "video", "event", "违停", level="blue")
    services.ingest([reading(devices["AI-01"], NOW, event="违停")], now=NOW)
    client = login(street.users.operator)
    page = client.get("/emergency/").content.decode()
    assert 'data-warnings="blue"><span>蓝色预警</span><b>1</b>' in page
    assert "设备AI-01：违停" in page
    alert = Alert.objects.get()
    response = client.post(f"/emergency/alerts/{alert.pk}/decide/", {"confirm": "0"})
    assert response.status_code == 302
    assert Alert.objects.get().status == "dismissed"
    page = client.get("/emergency/").content.decode()
    assert 'data-rate="accuracy">0%' in page.replace("\n", "")


def test_board_is_for_staff_only(street, login):
    client = login(street.users.resident)
    assert client.get("/emergency/").status_code == 403


def test_report_on_the_board_and_step_through(street, login):
    client = login(street.users.dispatcher)
    response = client.post(
        "/emergency/", {"title": "东湖路积水", "kind": "flood", "level": "4", "lat": "39.905", "lng": "116.405"}
    )
    assert response.status_code == 302
    number = response["Location"].rstrip("/").split("/")[-1]
    page = client.get(f"/emergency/{number}/").content.decode()
    assert "监测预警" in page and 'value="dispatch"' in page
    client.post(f"/emergency/{number}/act/", {"action": "dispatch"})
    live = client.get(f"/emergency/{number}/live/").content.decode()
    assert 'data-status="dispatched"' in live and 'hx-trigger="every 10s"' in live
    # A step the state does not allow shows a message and changes nothing.
    response = client.post(f"/emergency/{number}/act/", {"action": "close", "note": "x"}, follow=True)
    assert "不能" in response.content.decode()
    assert 'data-status="dispatched"' in client.get(f"/emergency/{number}/live/").content.decode()


def test_grid_worker_checklist_on_the_phone(street, residents, login):
    emergency = services.report_emergency(
        street.users.dispatcher, title="燃气泄漏", kind="gas", lat=39.905, lng=116.405, at=NOW
    )
    client = login(street.users.grid)
    page = client.get(f"/emergency/{emergency.number}/checks/").content.decode()
    assert "张桂兰" in page and "李建国" in page
    assert "138****5678" in page and "13812345678" not in page  # phones masked
    check = emergency.checks.get(person__name="张桂兰")
    response = client.post(f"/emergency/checks/{check.pk}/", {"result": "safe", "number": emergency.number})
    assert response.status_code == 302
    assert CareCheck.objects.get(pk=check.pk).result == "safe"
    page = client.get(f"/emergency/{emergency.number}/checks/").content.decode()
    assert "已核查 1/2 人" in page
    other = login(street.users.grid_other)
    assert "张桂兰" not in other.get(f"/emergency/{emergency.number}/checks/").content.decode()


def test_supplies_page_shows_rate_and_expiry(street, login):
    depot = Depot.objects.create(name="街道应急物资库")
    Stock.objects.create(depot=depot, item="沙袋", unit_label="袋", quantity=50, required=200)
    Stock.objects.create(
        depot=depot,
        item="口罩",
        unit_label="个",
        quantity=500,
        required=500,
        expires_on=dt.date.today() + dt.timedelta(days=5),
    )
    client = login(street.users.handler)
    page = client.get("/emergency/supplies/").content.decode()
    assert 'data-rate="compliance">50%' in page.replace("\n", "")
    assert "临期" in page
    sandbags = depot.stocks.get(item="沙袋")
    response = client.post("/emergency/supplies/", {"stock": sandbags.pk, "kind": "out", "quantity": "60"}, follow=True)
    assert "只有50袋" in response.content.decode()
    assert Stock.objects.get(pk=sandbags.pk).quantity == 50


def test_drills_and_devices_pages(street, devices, login):
    client = login(street.users.leader)
    assert client.get("/emergency/drills/").status_code == 200
    page = client.get("/emergency/devices/").content.decode()
    assert "WL-01" in page and "离线" in page
    services.ingest([reading(devices["WL-01"], dt.datetime.now(dt.UTC) - minutes(1), 0.1, "level")])
    page = client.get("/emergency/devices/").content.decode()
    assert page.count('<span class="warn warn-blue">离线</span>') == 3  # the three devices still silent


def test_map_layer(street, devices, login):
    client = login(street.users.leader)
    data = client.get("/emergency/map.json").json()
    layers = [f["properties"]["layer"] for f in data["features"]]
    assert layers.count("grid") == 4 and layers.count("device") == 4 and "emergency" not in layers


def test_board_in_english(street, login):
    client = login(street.users.leader)
    client.post("/i18n/setlang/", {"language": "en", "next": "/emergency/"})
    page = client.get("/emergency/").content.decode()
    assert "Red warning" in page and "Alert accuracy (target ≥ 85%)" in page
    assert "红色预警" not in page
