"""Who sees which case and who may act on it; masking of the reporter and the access log."""

import datetime as dt

import pytest

from jiedao.cases import services
from jiedao.common.models import AccessLog

from .conftest import dispatched, submit


def numbers(response):
    assert response.status_code == 200
    return {item["number"] for item in response.json()["items"]}


def test_a_handler_of_another_unit_cannot_see_or_touch_the_case(street, api):
    case = dispatched(street, category="010101", unit="ZHZF")
    other = api(street.users.handler_housing)
    assert other.get(f"/cases/{case.number}").status_code == 404
    assert other.get(f"/cases/{case.number}/events").status_code == 404
    for action, body in [("respond", {}), ("return", {"reason": "不归我们"}), ("note", {"note": "x"})]:
        response = other.post(f"/cases/{case.number}/actions/{action}", body)
        assert response.status_code in (403, 404)
    assert case.number not in numbers(other.get("/cases"))
    case.refresh_from_db()
    assert case.status == "dispatched" and case.events.count() == 2


def test_the_holding_unit_may_act_but_not_dispatch(street, api):
    case = dispatched(street, category="010101", unit="ZHZF")
    handler = api(street.users.handler)
    detail = handler.get(f"/cases/{case.number}").json()
    assert [a["code"] for a in detail["allowed_actions"]] == ["return", "respond", "request_extension"]
    assert [a["label"] for a in detail["allowed_actions"]] == ["退单", "响应", "申请延期"]
    refused = handler.post(
        f"/cases/{case.number}/actions/whistle", {"units": ["ZJ"], "report_hours": 4, "reason": "需要帮助"}
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"]
    assert handler.post(f"/cases/{case.number}/actions/respond").status_code == 200


def test_a_resident_lists_and_opens_only_their_own_cases(street, api):
    u = street.users
    mine = submit(street, user=u.resident)
    theirs = submit(street, user=u.resident_other)
    by_phone = submit(street)  # registered by the hotline for somebody else
    resident = api(u.resident)
    assert numbers(resident.get("/cases")) == {mine.number}
    assert resident.get(f"/cases/{theirs.number}").status_code == 404
    assert resident.get(f"/cases/{by_phone.number}").status_code == 404
    assert (
        resident.post(
            f"/cases/{theirs.number}/actions/rate", {"resolved": True, "satisfaction": "satisfied"}
        ).status_code
        == 404
    )


def test_a_grid_worker_sees_only_cases_in_their_grids(street, api):
    inside = submit(street, lat=39.905, lng=116.405)  # grid 1101050010101 (grid's)
    second = submit(street, lat=39.905, lng=116.415)  # grid 1101050010102 (grid's)
    elsewhere = submit(street, lat=39.915, lng=116.405)  # grid 1101050010201 (grid2's)
    assert numbers(api(street.users.grid).get("/cases")) == {inside.number, second.number}
    assert numbers(api(street.users.grid_other).get("/cases")) == {elsewhere.number}
    assert api(street.users.grid).get(f"/cases/{elsewhere.number}").status_code == 404


def test_a_grid_worker_keeps_seeing_what_they_reported_outside_their_grids(street, api):
    reported = submit(street, user=street.users.grid, channel="grid", lat=39.915, lng=116.405)  # grid2's grid
    assert reported.grid.code == "1101050010201"
    grid = api(street.users.grid)
    assert reported.number in numbers(grid.get("/cases"))
    assert grid.get(f"/cases/{reported.number}").status_code == 200
    assert reported.number in numbers(api(street.users.grid_other).get("/cases"))


def test_street_wide_roles_see_every_case(street, api):
    cases = {
        submit(street).number,
        submit(street, user=street.users.resident).number,
        dispatched(street, category="010101", unit="ZJ").number,
    }
    for user in (street.users.leader, street.users.dispatcher, street.users.operator, street.users.admin):
        assert numbers(api(user).get("/cases")) == cases


def test_verification_belongs_to_the_grid_worker_of_the_case(street, api):
    case = dispatched(street, category="010102", unit="ZHZF")  # in grid 1101050010101, needs verification
    services.respond(street.users.handler, number=case.number)
    services.resolve(street.users.handler, number=case.number, result="已修好")
    assert api(street.users.grid_other).post(f"/cases/{case.number}/actions/verify_pass").status_code == 404
    # A role that never verifies is refused before the case is looked up: 403 whatever the number.
    assert api(street.users.resident_other).post(f"/cases/{case.number}/actions/verify_pass").status_code == 403
    assert api(street.users.handler).post(f"/cases/{case.number}/actions/verify_pass").status_code == 403
    passed = api(street.users.grid).post(f"/cases/{case.number}/actions/verify_pass", {"reason": "已电话核实"})
    assert passed.json()["status"] == "rating"


def test_filters_on_the_list(street, api):
    u = street.users
    sanitation = dispatched(street, category="010101", unit="ZHZF")
    lamp = dispatched(street, category="010102", unit="ZJ")
    new = submit(street, description="噪音扰民")
    leader = api(u.leader)
    assert numbers(leader.get("/cases", {"status": "new"})) == {new.number}
    assert numbers(leader.get("/cases", {"status": "open"})) == {new.number, sanitation.number, lamp.number}
    assert numbers(leader.get("/cases", {"unit": "ZJ"})) == {lamp.number}
    assert numbers(leader.get("/cases", {"category": "0101"})) == {sanitation.number, lamp.number}
    assert numbers(leader.get("/cases", {"category": "010102"})) == {lamp.number}
    assert numbers(leader.get("/cases", {"q": "噪音"})) == {new.number}
    assert numbers(leader.get("/cases", {"urgency": "green"})) == {new.number, sanitation.number, lamp.number}
    for params, field in [
        ({"status": "lost"}, "status"),
        ({"urgency": "purple"}, "urgency"),
        ({"cursor": "!!!"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"order": "random"}, "order"),
        ({"category": "77"}, "category"),
    ]:
        response = leader.get("/cases", params)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]


# --- masking and the access log -------------------------------------------------------

REPORTER = {"reporter_name": "张三丰", "reporter_phone": "13812345678", "address": "东湖小区3号楼2单元501"}


@pytest.fixture
def reported(street):
    """A case in the first grid, held by 综合执法队, with a whistle summoning 住建."""
    case = dispatched(street, category="010101", unit="ZHZF", **REPORTER)
    services.blow_whistle(
        street.users.dispatcher, number=case.number, unit_codes=["ZJ"], report_hours=24, reason="会商"
    )
    AccessLog.objects.all().delete()
    return case


@pytest.mark.parametrize("who", ["dispatcher", "operator", "admin", "handler", "grid"])
def test_roles_that_need_the_reporter_see_it_and_are_logged(street, api, reported, who):
    user = getattr(street.users, who)
    body = api(user).get(f"/cases/{reported.number}").json()
    assert (body["reporter_name"], body["reporter_phone"], body["address"]) == (
        REPORTER["reporter_name"],
        REPORTER["reporter_phone"],
        REPORTER["address"],
    )
    assert body["reporter_masked"] is False
    [log] = AccessLog.objects.all()
    assert log.user == user and log.object_type == "cases.case" and log.object_id == str(reported.pk)
    assert set(log.fields.split(",")) == {"reporter_name", "reporter_phone", "address"}


@pytest.mark.parametrize("who", ["leader", "handler_housing"])
def test_other_roles_see_the_reporter_masked_and_nothing_is_logged(street, api, reported, who):
    body = api(getattr(street.users, who)).get(f"/cases/{reported.number}").json()
    assert body["reporter_masked"] is True
    assert body["reporter_name"] == "张*丰"
    assert body["reporter_phone"] == "138****5678"
    assert body["address"].endswith("****") and "501" not in body["address"]
    assert not AccessLog.objects.exists()


def test_the_reporter_sees_their_own_data(street, api):
    case = submit(street, user=street.users.resident, address="西园小区9号楼")
    AccessLog.objects.all().delete()
    body = api(street.users.resident).get(f"/cases/{case.number}").json()
    assert body["reporter_phone"] == "13800138000" and body["reporter_name"] == "王大妈"
    assert AccessLog.objects.filter(user=street.users.resident).count() == 1


def test_lists_always_mask_and_write_no_log(street, api, reported):
    for who in ("dispatcher", "handler", "grid"):
        [item] = api(getattr(street.users, who)).get("/cases").json()["items"]
        assert item["reporter_name"] == "张*丰" and item["reporter_phone"] == "138****5678"
        assert "address" not in item
    assert not AccessLog.objects.exists()


def test_each_unmasked_view_is_one_log_row(street, api, reported):
    dispatcher = api(street.users.dispatcher)
    dispatcher.get(f"/cases/{reported.number}")
    dispatcher.get(f"/cases/{reported.number}")
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    dispatcher.post(f"/cases/{reported.number}/actions/supervise", {"note": "加快", "due": due})
    assert AccessLog.objects.filter(user=street.users.dispatcher).count() == 3


def test_registering_a_case_is_not_a_look_up_but_replaying_it_is(street, api):
    operator = api(street.users.operator)
    body = {"channel": "phone", "description": "噪音扰民", **REPORTER}
    created = operator.post("/cases", body, HTTP_IDEMPOTENCY_KEY="once")
    assert created.status_code == 201 and created.json()["reporter_phone"] == REPORTER["reporter_phone"]
    assert not AccessLog.objects.exists()
    replay = operator.post("/cases", body, HTTP_IDEMPOTENCY_KEY="once")
    assert replay.status_code == 200
    assert AccessLog.objects.filter(user=street.users.operator).count() == 1
