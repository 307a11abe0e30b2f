"""Sensors: readings are validated and a batch is stored whole or not at all; each rule
kind raises an alert of its colour; an open alert suppresses the next for the same
device; a confirmed alert becomes a case or an emergency; the share confirmed is the
预警准确率; a surge of complaints raises a yellow warning."""

import datetime as dt

import pytest

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.emergency import selectors, services
from jiedao.emergency.models import Alert, Device, Reading

from .conftest import NOW, minutes, reading, rule

pytestmark = pytest.mark.django_db


def post(client, items):
    body = {"readings": [{**i, "at": i["at"].isoformat()} for i in items]}
    return client.post("/api/v1/sensors/readings", body, content_type="application/json")


def test_api_accepts_a_batch_with_device_tokens(client, devices):
    now = dt.datetime.now(dt.UTC)
    response = post(
        client,
        [
            reading(devices["WL-01"], now - minutes(2), 0.1, "level"),
            reading(devices["WQ-01"], now - minutes(1), 7.2, "ph"),
        ],
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "alerts": 0}
    assert Reading.objects.count() == 2
    assert Device.objects.get(code="WL-01").last_seen_at is not None


def test_a_batch_sent_again_is_stored_and_evaluated_once(client, devices):
    """A gateway that lost the answer sends the batch again: nothing is stored twice and no
    second alert is raised; a batch mixing old and new readings stores only the new ones."""
    rule("水位超警戒", "water_level", "above", "level", threshold=0.3, level="red")
    now = dt.datetime.now(dt.UTC)
    batch = [
        reading(devices["WL-01"], now - minutes(2), 0.5, "level"),
        reading(devices["WQ-01"], now - minutes(1), 7.2, "ph"),
    ]
    assert post(client, batch).json() == {"accepted": 2, "duplicates": 0, "alerts": 1}
    Alert.objects.update(status=Alert.Status.DISMISSED)  # the duty officer closed it meanwhile
    assert post(client, batch).json() == {"accepted": 0, "duplicates": 2, "alerts": 0}
    later = reading(devices["WQ-01"], now, 7.3, "ph")
    assert post(client, [*batch, later]).json() == {"accepted": 1, "duplicates": 2, "alerts": 0}
    assert Reading.objects.count() == 3 and Alert.objects.count() == 1


def test_bad_batch_is_rejected_whole_with_clear_errors(client, devices):
    now = dt.datetime.now(dt.UTC)
    good = reading(devices["WL-01"], now, 0.1, "level")
    bad_token = {**reading(devices["WQ-01"], now, 7.0, "ph"), "token": "wrong"}
    unknown = {**good, "device": "NOPE"}
    future = reading(devices["WL-01"], now + dt.timedelta(hours=2), 0.1, "level")
    out_of_range = reading(devices["WQ-01"], now, 15.5, "ph")
    response = post(client, [good, bad_token, unknown, future, out_of_range])
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["readings.1.token", "readings.2.device", "readings.3.at", "readings.4.value"]
    assert Reading.objects.count() == 0
    response = client.post(
        "/api/v1/sensors/readings",
        {"readings": [{**good, "at": now.isoformat(), "value": "abc"}]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "readings.0.value"
    assert Reading.objects.count() == 0


def test_every_bad_reading_of_a_batch_is_named_with_each_of_its_faults(client, devices):
    """A gateway fixes a refused batch in one go: every bad reading is named by its index, with
    every field that is wrong in it, whatever came before it in the batch."""
    now = dt.datetime.now(dt.UTC)
    good = reading(devices["WL-01"], now - minutes(1), 0.1, "level")
    wrong_everything = {**reading(devices["WQ-01"], now + dt.timedelta(hours=2), 15.5, "ph"), "token": "wrong"}
    unknown_without_metric = {**reading(devices["WL-01"], now, 0.2), "device": "NOPE"}
    same_wrong_token_again = {**reading(devices["WQ-01"], now, 7.0, "ph"), "token": "wrong"}
    stale = reading(devices["WL-01"], now - dt.timedelta(days=8), 0.1, "level")
    response = post(client, [wrong_everything, good, unknown_without_metric, same_wrong_token_again, stale])
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "readings.0.token",
        "readings.0.at",
        "readings.0.value",
        "readings.2.device",
        "readings.2.metric",
        "readings.3.token",
        "readings.4.at",
    ]
    assert Reading.objects.count() == 0


def test_readings_that_do_not_fit_the_schema_are_all_named(client, devices):
    now = dt.datetime.now(dt.UTC).isoformat()
    good = {**reading(devices["WL-01"], now, 0.1, "level")}
    body = {"readings": [{**good, "value": "abc"}, good, {**good, "at": "昨天"}]}
    response = client.post("/api/v1/sensors/readings", body, content_type="application/json")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["readings.0.value", "readings.2.at"]
    assert Reading.objects.count() == 0


def test_a_malformed_reading_does_not_hide_the_faults_of_the_others(client, devices):
    """A value that is not a number, an unknown device and a reading that is not an object, in
    one batch: all three are named in the one answer."""
    now = dt.datetime.now(dt.UTC).isoformat()
    good = reading(devices["WL-01"], now, 0.1, "level")
    body = {"readings": [{**good, "value": "abc"}, {**good, "device": "NOPE"}, 42, {**good, "device": None}]}
    response = client.post("/api/v1/sensors/readings", body, content_type="application/json")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "readings.0.value",
        "readings.1.device",
        "readings.2",
        "readings.3.device",
    ]
    assert "应为数字" in response.json()["errors"][0]["message"]
    assert Reading.objects.count() == 0


def test_threshold_above_for_a_duration(devices):
    rule("水位超警戒", "water_level", "above", "level", threshold=0.3, duration=10, level="red")
    gauge = devices["WL-01"]
    services.ingest(
        [reading(gauge, NOW, 0.35, "level"), reading(gauge, NOW + minutes(5), 0.4, "level")], now=NOW + minutes(5)
    )
    assert Alert.objects.count() == 0  # above, but not yet for 10 minutes
    result = services.ingest([reading(gauge, NOW + minutes(10), 0.42, "level")], now=NOW + minutes(10))
    assert result["alerts"] == 1
    alert = Alert.objects.get()
    assert (alert.level, alert.value, alert.device) == ("red", 0.42, gauge.device)


def test_a_dip_resets_the_duration(devices):
    rule("水位超警戒", "water_level", "above", "level", threshold=0.3, duration=10, level="red")
    gauge = devices["WL-01"]
    services.ingest(
        [
            reading(gauge, NOW, 0.35, "level"),
            reading(gauge, NOW + minutes(6), 0.2, "level"),
            reading(gauge, NOW + minutes(11), 0.35, "level"),
        ],
        now=NOW + minutes(11),
    )
    assert Alert.objects.count() == 0


def test_below_threshold_and_suppression(street, devices):
    rule("pH 过低", "water_quality", "below", "ph", threshold=6.5, level="yellow")
    probe = devices["WQ-01"]
    services.ingest([reading(probe, NOW, 5.9, "ph"), reading(probe, NOW + minutes(1), 5.8, "ph")], now=NOW + minutes(1))
    services.ingest([reading(probe, NOW + minutes(2), 5.7, "ph")], now=NOW + minutes(2))
    assert Alert.objects.count() == 1  # one open alert per device
    services.decide_alert(street.users.operator, alert_id=Alert.objects.get().pk, confirm=False)
    services.ingest([reading(probe, NOW + minutes(3), 5.6, "ph")], now=NOW + minutes(3))
    assert Alert.objects.filter(status="open").count() == 1  # a new one after the first was decided


def test_an_alert_is_decided_once_and_the_decision_is_timed(street, devices):
    rule("pH 过低", "water_quality", "below", "ph", threshold=6.5, level="yellow")
    services.ingest([reading(devices["WQ-01"], NOW, 5.9, "ph")], now=NOW)
    alert = Alert.objects.get()
    services.decide_alert(
        street.users.operator, alert_id=alert.pk, confirm=False, note="探头被污染", at=NOW + minutes(4)
    )
    alert.refresh_from_db()
    assert (alert.status, alert.decided_at, alert.decided_by, alert.note) == (
        "dismissed",
        NOW + minutes(4),
        street.users.operator,
        "探头被污染",
    )
    with pytest.raises(InvalidTransition):
        services.decide_alert(street.users.dispatcher, alert_id=alert.pk, confirm=True, at=NOW + minutes(5))
    with pytest.raises(NotAllowed):
        services.decide_alert(street.users.handler, alert_id=alert.pk, confirm=True)
    alert.refresh_from_db()
    assert alert.status == "dismissed" and alert.decided_by == street.users.operator


def test_rate_of_change(devices):
    rule("水位猛涨", "water_level", "rate", "level", threshold=0.05, level="yellow")
    gauge = devices["WL-01"]
    services.ingest(
        [reading(gauge, NOW, 0.10, "level"), reading(gauge, NOW + minutes(10), 0.15, "level")], now=NOW + minutes(10)
    )
    assert Alert.objects.count() == 0  # 0.005 per minute
    services.ingest([reading(gauge, NOW + minutes(12), 0.30, "level")], now=NOW + minutes(12))
    assert Alert.objects.get().level == "yellow"  # 0.075 per minute


def test_video_event(devices):
    rule("违停", "video", "event", "违停", level="blue", outcome="case")
    camera = devices["AI-01"]
    services.ingest([reading(camera, NOW, event="占道经营")], now=NOW)
    assert Alert.objects.count() == 0
    services.ingest([reading(camera, NOW + minutes(1), event="违停")], now=NOW + minutes(1))
    assert "违停" in Alert.objects.get().message


def test_silence_means_offline(devices):
    rule("离线", "water_quality", "silence", threshold=60, level="blue")
    probe = devices["WQ-01"]
    services.ingest([reading(probe, NOW, 7.0, "ph")], now=NOW)
    assert services.sweep_sensors(NOW + minutes(30))["offline"] == 0
    assert services.sweep_sensors(NOW + minutes(61))["offline"] == 1
    assert services.sweep_sensors(NOW + minutes(90))["offline"] == 0  # suppressed while open
    assert "离线" in Alert.objects.get(device=probe.device).message


def test_meter_without_use_by_noon(devices):
    rule("独居老人中午前无用电", "meter", "no_use", "kwh", level="red", outcome="emergency", emergency_kind="elderly")
    meter = devices["EM-01"]
    # 2026-11-18 in Beijing: 09:30 is NOW; noon is 04:00 UTC.
    services.ingest([reading(meter, NOW, 0.0, "kwh")], now=NOW)
    assert services.sweep_sensors(NOW + minutes(60))["no_use"] == 0  # before noon: not judged yet
    assert services.sweep_sensors(NOW + minutes(160))["no_use"] == 1


def test_meter_with_use_raises_nothing(devices):
    rule("独居老人中午前无用电", "meter", "no_use", "kwh", level="red")
    meter = devices["EM-01"]
    services.ingest([reading(meter, NOW, 0.3, "kwh")], now=NOW)
    assert services.sweep_sensors(NOW + minutes(160))["no_use"] == 0


def test_confirmed_alert_becomes_a_routed_case(street, devices):
    rule("违停", "video", "event", "违停", level="blue", outcome="case", category_code="010102")
    services.ingest([reading(devices["AI-01"], NOW, event="违停")], now=NOW)
    alert = services.decide_alert(
        street.users.operator, alert_id=Alert.objects.get().pk, confirm=True, at=NOW + minutes(1)
    )
    assert alert.case is not None
    assert alert.case.channel == "sensor"
    assert alert.case.unit == street.units.enforcement  # routed by the usual rules
    assert "违停" in alert.case.description


def test_confirmed_alert_becomes_an_emergency(street, devices, residents):
    rule("独居老人中午前无用电", "meter", "no_use", "kwh", level="red", outcome="emergency", emergency_kind="elderly")
    services.sweep_sensors(NOW + minutes(160))
    alert = services.decide_alert(
        street.users.operator, alert_id=Alert.objects.get().pk, confirm=True, at=NOW + minutes(165)
    )
    emergency = alert.emergency
    assert emergency.source == "alert" and emergency.kind == "elderly" and emergency.status == "reported"
    assert emergency.grid == street.grids[0]
    assert emergency.checks.count() == 2


def test_deciding_twice_is_refused(street, devices, login):
    rule("违停", "video", "event", "违停")
    services.ingest([reading(devices["AI-01"], NOW, event="违停")], now=NOW)
    alert = Alert.objects.get()
    client = login(street.users.operator)
    url = f"/api/v1/emergency/alerts/{alert.pk}/decide"
    assert client.post(url, {"confirm": False}, content_type="application/json").status_code == 200
    assert client.post(url, {"confirm": True}, content_type="application/json").status_code == 409
    client = login(street.users.resident)
    assert client.post(url, {"confirm": True}, content_type="application/json").status_code == 403


def test_alert_accuracy(street, devices):
    rule("违停", "video", "event", "违停")
    rule("pH 过低", "water_quality", "below", "ph", threshold=6.5)
    rule("水位", "water_level", "above", "level", threshold=0.3)
    assert selectors.alert_accuracy()["rate"] is None
    services.ingest(
        [
            reading(devices["AI-01"], NOW, event="违停"),
            reading(devices["WQ-01"], NOW, 6.0, "ph"),
            reading(devices["WL-01"], NOW, 0.5, "level"),
        ],
        now=NOW,
    )
    a, b, c = Alert.objects.order_by("id")
    services.decide_alert(street.users.operator, alert_id=a.pk, confirm=True)
    services.decide_alert(street.users.operator, alert_id=b.pk, confirm=True)
    services.decide_alert(street.users.operator, alert_id=c.pk, confirm=False)
    accuracy = selectors.alert_accuracy()
    assert (accuracy["confirmed"], accuracy["decided"]) == (2, 3)


def test_complaint_surge_raises_yellow(street):
    from jiedao.cases import services as case_services

    for day in range(1, 8):
        case_services.submit_case(
            street.users.operator,
            channel="phone",
            description=f"第{day}天的诉求",
            at=NOW - dt.timedelta(days=day, hours=1),
        )
    assert services.check_complaint_surge(NOW) is None
    for n in range(12):
        case_services.submit_case(
            street.users.operator, channel="phone", description=f"停水了{n}", at=NOW - minutes(n + 1)
        )
    alert = services.check_complaint_surge(NOW)
    assert alert.level == "yellow" and "激增" in alert.message
    assert services.check_complaint_surge(NOW) is None  # suppressed while open


def test_unknown_device_error_is_clear(devices):
    with pytest.raises(ValidationFailed) as error:
        services.ingest([{"device": "X", "token": "t", "at": NOW, "metric": "ph", "value": 7.0}], now=NOW)
    assert "未登记" in str(error.value)


def test_worker_queues_one_sensor_sweep_at_a_time(devices):
    from jiedao.emergency.tasks import enqueue_sensor_sweep_if_idle

    assert enqueue_sensor_sweep_if_idle() is not None
    assert enqueue_sensor_sweep_if_idle() is None


def test_device_added_in_admin_gets_a_token_shown_once(street, login, client):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = login(admin)
    response = client.post(
        "/admin/emergency/device/add/",
        {"code": "SM-09", "name": "烟感9号", "kind": "smoke", "address": "", "active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "SM-09 的令牌" in text
    token = text.split("SM-09 的令牌（只显示这一次，请配置到设备上）：")[1].split("<")[0].strip()
    now = dt.datetime.now(dt.UTC)
    body = {"readings": [{"device": "SM-09", "token": token, "at": now.isoformat(), "event": "smoke"}]}
    assert client.post("/api/v1/sensors/readings", body, content_type="application/json").status_code == 200
