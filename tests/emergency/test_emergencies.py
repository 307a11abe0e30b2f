"""An emergency from report to closure: the timeline records every step (who, when,
from, to), illegal steps are refused with 409, the arrival and disposal times are
measured against their targets, and the special-care residents of the area are listed
for the grid workers to check on."""

import pytest

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.emergency import selectors, services
from jiedao.emergency.models import Alert, CareCheck, Emergency, EmergencyEvent

from .conftest import NOW, minutes

pytestmark = pytest.mark.django_db


def report(street, **kwargs):
    values = {"title": "东湖路积水", "kind": "flood", "level": "4", "lat": 39.905, "lng": 116.405, "at": NOW}
    values.update(kwargs)
    return services.report_emergency(street.users.dispatcher, **values)


def test_report_locates_the_grid_and_lists_special_care_residents(street, residents):
    emergency = report(street)
    assert emergency.grid == street.grids[0]
    assert emergency.number.startswith("YJ2026")
    names = sorted(c.person.name for c in emergency.checks.all())
    assert names == ["张桂兰", "李建国"]  # cared-for in this grid; not 李小明, not 赵奶奶 in 西园
    event = emergency.events.get()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "report",
        "",
        "reported",
        street.users.dispatcher,
    )


def test_full_timeline_measures_arrival_and_disposal(street):
    emergency = report(street)
    u = street.users
    services.transition(u.dispatcher, number=emergency.number, action="dispatch", at=NOW + minutes(2))
    services.transition(u.handler, number=emergency.number, action="arrive", at=NOW + minutes(12))
    services.transition(
        u.dispatcher, number=emergency.number, action="engage", unit_codes=["ZHZF", "GGFW"], at=NOW + minutes(15)
    )
    services.transition(u.leader, number=emergency.number, action="recover", note="积水已排除", at=NOW + minutes(48))
    services.transition(u.leader, number=emergency.number, action="close", note="道路恢复通行", at=NOW + minutes(120))
    emergency.refresh_from_db()
    assert emergency.status == "closed"
    steps = list(emergency.events.values_list("action", "from_status", "to_status"))
    assert steps == [
        ("report", "", "reported"),
        ("dispatch", "reported", "dispatched"),
        ("arrive", "dispatched", "arrived"),
        ("engage", "arrived", "engaged"),
        ("recover", "engaged", "recovered"),
        ("close", "recovered", "closed"),
    ]
    assert emergency.events.get(action="arrive").actor == u.handler
    m = selectors.measures(emergency)
    assert (m.arrival_minutes, m.arrival_on_time) == (12.0, True)
    assert (m.disposal_minutes, m.disposal_on_time) == (48.0, True)
    assert set(emergency.units.values_list("code", flat=True)) == {"ZHZF", "GGFW"}


def test_late_disposal_is_shown_as_late(street):
    emergency = report(street, arrival_target_minutes=10)
    u = street.users
    services.transition(u.dispatcher, number=emergency.number, action="dispatch", at=NOW + minutes(1))
    services.transition(u.handler, number=emergency.number, action="arrive", at=NOW + minutes(25))
    services.transition(u.dispatcher, number=emergency.number, action="engage", at=NOW + minutes(30))
    services.transition(u.dispatcher, number=emergency.number, action="recover", note="完毕", at=NOW + minutes(95))
    m = selectors.measures(Emergency.objects.get(pk=emergency.pk))
    assert (m.arrival_on_time, m.disposal_on_time) == (False, False)
    summary = selectors.disposal_summary(u.leader)
    assert (summary["finished"], summary["on_time"]) == (1, 0)


def test_illegal_transitions_are_refused_and_leave_no_event(street):
    emergency = report(street)
    with pytest.raises(InvalidTransition):
        services.transition(
            street.users.dispatcher, number=emergency.number, action="recover", note="x", at=NOW + minutes(5)
        )
    with pytest.raises(NotAllowed):
        services.transition(street.users.resident, number=emergency.number, action="dispatch")
    with pytest.raises(ValidationFailed):
        services.transition(street.users.dispatcher, number=emergency.number, action="cancel", note="")
    assert EmergencyEvent.objects.filter(emergency=emergency).count() == 1
    assert Emergency.objects.get(pk=emergency.pk).status == "reported"


def test_the_answers_come_in_the_engines_order(street):
    emergency = report(street)
    u = street.users
    # An action the lifecycle does not have names the field, whoever asks and whatever the number.
    for who, number in ((u.dispatcher, emergency.number), (u.resident, "YJ00000000")):
        with pytest.raises(ValidationFailed) as unknown:
            services.transition(who, number=number, action="fly")
        assert unknown.value.errors[0]["field"] == "action"
    # A role the permission table does not name for the step is refused before the look-up.
    with pytest.raises(NotAllowed):
        services.transition(u.handler, number="YJ00000000", action="dispatch")
    # Then the state, then the note.
    with pytest.raises(InvalidTransition):
        services.transition(u.dispatcher, number=emergency.number, action="close", note="")
    with pytest.raises(ValidationFailed) as no_note:
        services.transition(u.dispatcher, number=emergency.number, action="cancel", note=" ")
    assert no_note.value.errors[0]["field"] == "note"
    assert list(emergency.events.values_list("action", flat=True)) == ["report"]


def test_each_step_stamps_its_time_once(street):
    emergency = report(street)
    u = street.users
    services.transition(u.dispatcher, number=emergency.number, action="dispatch", at=NOW + minutes(2))
    services.transition(u.dispatcher, number=emergency.number, action="cancel", note="误报", at=NOW + minutes(7))
    emergency.refresh_from_db()
    assert (emergency.dispatched_at, emergency.closed_at) == (NOW + minutes(2), NOW + minutes(7))
    assert emergency.arrived_at is None and emergency.status == "cancelled"
    assert emergency.events.get(action="cancel").note == "误报"


def test_api_answers_409_for_an_illegal_step(street, login):
    emergency = report(street)
    client = login(street.users.dispatcher)
    response = client.post(
        f"/api/v1/emergencies/{emergency.number}/close", {"note": "结束"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert "不能" in response.json()["errors"][0]["message"]
    response = client.post(f"/api/v1/emergencies/{emergency.number}/dispatch", {}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "dispatched"
    assert [e["action"] for e in response.json()["events"]] == ["report", "dispatch"]


def test_api_report_and_errors(street, login):
    client = login(street.users.dispatcher)
    response = client.post(
        "/api/v1/emergencies",
        {"title": "燃气味", "kind": "gas", "level": "3", "lat": 39.915, "lng": 116.405},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["grid"] == street.grids[2].code
    response = client.post("/api/v1/emergencies", {"title": "", "kind": "meteor"}, content_type="application/json")
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"title", "kind"}
    client = login(street.users.resident)
    assert client.get("/api/v1/emergencies").status_code == 403


def test_major_event_raises_a_red_warning(street):
    report(street, level="2", title="居民楼火灾", kind="fire")
    alert = Alert.objects.get()
    assert alert.level == "red" and alert.source == "emergency"
    assert selectors.warning_counts() == {"red": 1, "yellow": 0, "blue": 0}


def test_grid_worker_checks_residents_of_own_grid_only(street, residents):
    emergency = report(street)
    mine = emergency.checks.get(person__name="张桂兰")
    services.record_check(street.users.grid, check_id=mine.pk, result="safe", note="已电话联系")
    assert CareCheck.objects.get(pk=mine.pk).result == "safe"
    assert selectors.check_progress(emergency)["done"] == 1
    with pytest.raises(NotAllowed):
        services.record_check(street.users.grid_other, check_id=mine.pk, result="helped")
    assert emergency.events.filter(action="check").count() == 1
    rows = selectors.checks_for(street.users.grid_other, emergency)
    assert rows == []


def test_emergency_from_a_case(street):
    from jiedao.cases import services as case_services

    case, _ = case_services.submit_case(
        street.users.operator, channel="phone", description="小区地下车库进水", lat=39.905, lng=116.405, at=NOW
    )
    emergency = services.emergency_from_case(
        street.users.dispatcher, case_number=case.number, kind="flood", at=NOW + minutes(3)
    )
    assert emergency.case == case and emergency.source == "case"
    assert emergency.grid == street.grids[0]


def test_an_emergency_from_a_case_copies_its_text_with_the_numbers_masked(street):
    from jiedao.cases import services as case_services

    case, _ = case_services.submit_case(
        street.users.operator,
        channel="phone",
        at=NOW,
        lat=39.905,
        lng=116.405,
        description="地下车库进水，物业电话 138 1234 5678 没人接",
    )
    emergency = services.emergency_from_case(
        street.users.dispatcher, case_number=case.number, kind="flood", at=NOW + minutes(3)
    )
    assert "138 1234 5678" not in emergency.title + emergency.description
    assert "5678" in emergency.description and "地下车库进水" in emergency.title
    case.refresh_from_db()
    assert "138 1234 5678" in case.description  # the case keeps what the caller said
