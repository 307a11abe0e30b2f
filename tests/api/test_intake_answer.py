"""The answer to POST /api/v1/cases is built from the case just written, without reading it
back: it must show exactly what a later GET shows, and one intake runs a fixed, small
number of statements."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiedao.cases import dispatching
from jiedao.cases.models import Case, CaseEvent, CaseNumberCounter
from jiedao.common.models import AccessLog
from jiedao.messaging.models import Notification

from .conftest import b64, png_bytes

INTAKE = {
    "channel": "12345",
    "description": "小区门口垃圾桶满了两天没有清运",
    "reporter_phone": "13912345678",
    "reporter_name": "张三",
    "address": "东湖小区南门",
    "lat": 39.905,
    "lng": 116.405,
}


@pytest.fixture
def operator(api, street):
    return api(street.users.operator)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"category": "010101", "dispatch": True}, id="routed by the community's rule"),
        pytest.param({"category": "020101", "dispatch": True, "lat": 39.915}, id="no rule: the street's default unit"),
        pytest.param({"category": "010201"}, id="classified, not dispatched"),
        pytest.param({"photos": [b64(png_bytes())]}, id="with a photo"),
    ],
)
def test_the_answer_to_an_intake_is_what_a_later_look_up_shows(street, operator, extra):
    created = operator.post("/cases", {**INTAKE, **extra})
    assert created.status_code == 201
    shown = operator.get(f"/cases/{created.json()['number']}")
    assert shown.status_code == 200
    # The answer is rendered without django-ninja checking it again: it must be what the
    # look-up (checked against CaseDetail) shows, to the byte and the header.
    assert created.json() == shown.json()
    assert created.content == shown.content
    assert created["Content-Type"] == shown["Content-Type"] == "application/json; charset=utf-8"


def test_a_resident_sees_their_new_case_as_stored(street, api):
    resident = api(street.users.resident)
    created = resident.post("/cases", {"description": "楼道灯坏了", "lat": 39.915, "lng": 116.415})
    assert created.status_code == 201
    assert created.json() == resident.get(f"/cases/{created.json()['number']}").json()


def test_the_answer_to_an_intake_writes_no_access_log_row(street, operator):
    operator.post("/cases", {**INTAKE, "category": "010101", "dispatch": True})
    assert not AccessLog.objects.exists()


def test_an_intake_with_dispatch_writes_the_case_its_two_events_and_the_notice(street, operator):
    body = operator.post("/cases", {**INTAKE, "category": "010101", "dispatch": True}).json()
    case = Case.objects.get(number=body["number"])
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    assert [(e.seq, e.action, e.from_status, e.to_status) for e in events] == [
        (1, "create", "", "new"),
        (2, "dispatch", "new", "dispatched"),
    ]
    assert events[0].unit is None and events[1].unit == street.units.committee1
    assert events[1].data["response_due"] == case.response_due.isoformat()
    told = Notification.objects.filter(link=f"/cases/{case.number}/")
    assert list(told.values_list("unit__code", "kind")) == [("JWH01", "dispatch")]


def test_one_intake_with_dispatch_runs_a_fixed_number_of_statements(street, operator):
    operator.post("/cases", {**INTAKE, "category": "010101", "dispatch": True})  # fills the per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = operator.post("/cases", {**INTAKE, "category": "010102", "dispatch": True, "lat": 39.915})
    assert response.status_code == 201
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    ]
    # The token with its user and roles (one statement); the day's number; case, events and
    # the unit's notice (on PostgreSQL the case is inserted under a provisional number and
    # takes the day's number last, in the same one statement that counts it). The
    # responsibility list (read to check the matching routing rule against the negative list)
    # comes from the process's cache, asked again only after duties.selectors.LIST_CHECK_SECONDS.
    assert len(statements) == 5, "\n".join(statements)


def test_numbers_count_on_past_five_digits(street, operator):
    first = operator.post("/cases", INTAKE).json()["number"]
    assert first.endswith("00001")
    CaseNumberCounter.objects.update(last=99998)  # the day's one counter
    numbers = [operator.post("/cases", INTAKE).json()["number"] for _ in range(2)]
    assert numbers == [first[:-5] + "99999", first[:-5] + "100000"]
    assert sorted(Case.objects.values_list("number", flat=True)) == sorted([first, *numbers])


def test_numbers_stay_consecutive_when_an_intake_fails_after_numbering(street, operator, monkeypatch):
    first = operator.post("/cases", INTAKE).json()["number"]

    def broken_notify(**kwargs):
        raise RuntimeError("消息服务故障")

    monkeypatch.setattr(dispatching, "notify", broken_notify)
    with pytest.raises(RuntimeError):
        operator.post("/cases", {**INTAKE, "category": "010101", "dispatch": True})
    monkeypatch.undo()
    second = operator.post("/cases", INTAKE).json()["number"]
    assert Case.objects.count() == 2
    assert int(second[-5:]) == int(first[-5:]) + 1
