"""The whole 接诉即办 loop through the API, with return, whistle, extension,
verification, an unsatisfied rating that reopens the case, and merging."""

import base64
import datetime as dt

import pytest

from jiedao.cases.models import Case
from jiedao.messaging.models import Notification
from tests.uploads import png_bytes

from .conftest import dispatched, fields_of, submit


def codes(detail):
    return [a["code"] for a in detail["allowed_actions"]]


def test_full_loop_through_the_api(street, api):
    u = street.users
    resident, dispatcher, handler = api(u.resident), api(u.dispatcher), api(u.handler)
    housing, leader, grid = api(u.handler_housing), api(u.leader), api(u.grid)

    # 受理: a resident reports a broken street lamp at a point in the first grid.
    created = resident.post("/cases", {"description": "小区门口路灯不亮三天了", "lat": 39.905, "lng": 116.405})
    assert created.status_code == 201
    number = created.json()["number"]
    assert codes(created.json()) == []  # nothing for the resident to do yet

    # 分类 and 派单 by the routing rules.
    case = dispatcher.post(f"/cases/{number}/actions/classify", {"category": "010102"}).json()
    assert case["category"]["code"] == "010102"
    assert "dispatch" in codes(case)
    case = dispatcher.post(f"/cases/{number}/actions/dispatch").json()
    assert case["status"] == "dispatched"
    assert case["unit"]["code"] == "ZHZF"

    # 退单 needs a reason; with one, the case goes back to the dispatcher.
    missing = handler.post(f"/cases/{number}/actions/return", {"reason": " "})
    assert missing.status_code == 422 and fields_of(missing) == {"reason"}
    case = handler.post(f"/cases/{number}/actions/return", {"reason": "路灯归属住建，不属本队"}).json()
    assert case["status"] == "returned" and case["unit"] is None and case["return_count"] == 1

    # The dispatcher overrides the route; the unit responds.
    case = dispatcher.post(f"/cases/{number}/actions/dispatch", {"unit": "ZHZF", "note": "经核实仍由执法队办理"}).json()
    assert case["unit"]["code"] == "ZHZF"
    assert set(codes(handler.get(f"/cases/{number}").json())) >= {"respond", "return", "request_extension"}
    case = handler.post(f"/cases/{number}/actions/respond", {"note": "已电话联系居民"}).json()
    assert case["status"] == "in_progress" and case["responded_at"]
    handler.post(f"/cases/{number}/actions/note", {"note": "已联系供电公司"})

    # 吹哨报到: two units are summoned; one reports.
    case = dispatcher.post(
        f"/cases/{number}/actions/whistle",
        {"units": ["ZJ", "GGFW"], "report_hours": 24, "reason": "线路老化需多部门会商"},
    ).json()
    [whistle] = case["whistles"]
    assert whistle["not_reported"] == ["GGFW", "ZJ"] and whistle["reported"] == []
    assert housing.get(f"/cases/{number}").status_code == 200  # a summoned unit sees the case
    case = housing.post(f"/cases/{number}/actions/report", {"part": "负责更换线路"}).json()
    [whistle] = case["whistles"]
    assert whistle["reported"] == ["ZJ"] and whistle["not_reported"] == ["GGFW"]
    zj = next(s for s in whistle["summonses"] if s["unit"]["code"] == "ZJ")
    assert zj["part"] == "负责更换线路" and zj["reported_at"].endswith("+08:00")

    # 延期: requested by the unit, approved by a leader; the deadline moves.
    before_due = dt.datetime.fromisoformat(case["completion_due"])
    case = handler.post(
        f"/cases/{number}/actions/request_extension", {"extra_workdays": 3, "reason": "等待供电公司停电检修"}
    ).json()
    assert case["pending_extension"]["extra_workdays"] == 3
    assert "approve_extension" in codes(leader.get(f"/cases/{number}").json())
    case = leader.post(f"/cases/{number}/actions/approve_extension", {"note": "同意"}).json()
    assert case["pending_extension"] is None and case["extension_count"] == 1
    assert dt.datetime.fromisoformat(case["completion_due"]) > before_due

    # 办结 → 核查: the first verification fails, the second passes.
    case = handler.post(f"/cases/{number}/actions/resolve", {"result": "已更换灯泡"}).json()
    assert case["status"] == "verifying"
    failed = grid.post(f"/cases/{number}/actions/verify_fail", {"note": "现场仍不亮", "reason": "夜间电话核实"}).json()
    assert failed["status"] == "in_progress"
    handler.post(f"/cases/{number}/actions/resolve", {"result": "已更换线路和灯泡"})
    # On site: a photo and the phone's position next to the case.
    photo = base64.b64encode(png_bytes()).decode()
    on_site = {"lat": 39.9051, "lng": 116.4051, "photos": [photo]}
    case = grid.post(f"/cases/{number}/actions/verify_pass", on_site).json()
    assert case["status"] == "rating"
    assert "rate" in codes(resident.get(f"/cases/{number}").json())

    # 回访评价: not satisfied → 重办 to the same unit.
    case = resident.post(
        f"/cases/{number}/actions/rate", {"resolved": False, "satisfaction": "unsatisfied", "comment": "晚上还是闪"}
    ).json()
    assert case["status"] == "in_progress" and case["rework_count"] == 1 and case["unit"]["code"] == "ZHZF"
    assert Notification.objects.filter(link=f"/cases/{number}/", kind="rework", unit=street.units.enforcement).exists()

    handler.post(f"/cases/{number}/actions/resolve", {"result": "更换整套灯具"})
    grid.post(f"/cases/{number}/actions/verify_pass", on_site)
    case = resident.post(f"/cases/{number}/actions/rate", {"resolved": True, "satisfaction": "satisfied"}).json()
    assert case["status"] == "closed" and case["closed_at"]
    assert [(r["round"], r["satisfaction"], r["source"]) for r in case["ratings"]] == [
        (1, "unsatisfied", "resident"),
        (2, "satisfied", "resident"),
    ]

    # The timeline has every step, in order, in Beijing time with names and labels.
    events = dispatcher.get(f"/cases/{number}/events").json()
    assert [e["action"] for e in events] == [
        "create",
        "classify",
        "dispatch",
        "return",
        "dispatch",
        "respond",
        "note",
        "whistle",
        "report",
        "request_extension",
        "approve_extension",
        "resolve",
        "verify_fail",
        "resolve",
        "verify_pass",
        "rate",
        "resolve",
        "verify_pass",
        "rate",
    ]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["at"].endswith("+08:00") for e in events)
    ret = events[3]
    assert ret["action_label"] == "退单" and ret["actor"] == "handler"
    assert ret["actor_unit"] == {"code": "ZHZF", "name": "综合执法队"}
    assert (ret["from_status_label"], ret["to_status_label"]) == ("待响应", "已退单")
    assert ret["note"] == "路灯归属住建，不属本队"
    assert events[-1]["data"]["satisfaction"] == "satisfied"

    # 409: nothing more can happen to a closed case.
    again = dispatcher.post(f"/cases/{number}/actions/dispatch")
    assert again.status_code == 409
    assert "已结案" in again.json()["errors"][0]["message"]


def test_refused_extension_and_supervision_and_callback_closing(street, api):
    u = street.users
    case = dispatched(street, category="010101", unit="ZHZF")
    handler, leader, dispatcher = api(u.handler), api(u.leader), api(u.dispatcher)
    handler.post(f"/cases/{case.number}/actions/request_extension", {"extra_workdays": 2, "reason": "材料未到"})
    no_note = leader.post(f"/cases/{case.number}/actions/refuse_extension", {})
    assert no_note.status_code == 422 and fields_of(no_note) == {"note"}
    body = leader.post(f"/cases/{case.number}/actions/refuse_extension", {"note": "时限内可完成"}).json()
    assert body["pending_extension"] is None and body["extension_count"] == 0
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    body = leader.post(f"/cases/{case.number}/actions/supervise", {"note": "请加快办理", "due": due}).json()
    assert body["supervised"] is True
    handler.post(f"/cases/{case.number}/actions/respond")
    handler.post(f"/cases/{case.number}/actions/resolve", {"result": "已清运"})
    body = dispatcher.post(f"/cases/{case.number}/actions/close", {"note": "三次回访未接通"}).json()
    assert body["status"] == "closed"


def test_merge_a_duplicate_into_a_master_case(street, api):
    u = street.users
    master = dispatched(street, category="010101", unit="ZHZF")
    duplicate = submit(street, user=u.resident, description="门口垃圾没人清")
    dispatcher = api(u.dispatcher)

    bad = dispatcher.post(f"/cases/{duplicate.number}/actions/merge", {"master": "JD000"})
    assert bad.status_code == 422 and fields_of(bad) == {"master"}
    missing = dispatcher.post(f"/cases/{duplicate.number}/actions/merge", {})
    assert missing.status_code == 422 and fields_of(missing) == {"master"}

    body = dispatcher.post(
        f"/cases/{duplicate.number}/actions/merge", {"master": master.number, "note": "同一地点同一问题"}
    ).json()
    assert body["status"] == "merged" and body["master"] == master.number
    assert dispatcher.get(f"/cases/{master.number}").json()["merged_cases"] == [duplicate.number]
    # The duplicate's reporter keeps their case and is told where it went.
    mine = api(u.resident).get(f"/cases/{duplicate.number}").json()
    assert mine["master"] == master.number
    assert Notification.objects.filter(user=u.resident, kind="merge").exists()
    master_events = dispatcher.get(f"/cases/{master.number}/events").json()
    assert master_events[-1]["action"] == "absorb" and master_events[-1]["action_label"] == "并入重复工单"


@pytest.mark.parametrize(
    "actor,action,body",
    [
        ("handler", "resolve", {"result": "已处理"}),
        ("dispatcher", "verify_pass", {}),
        ("dispatcher", "rate", {"resolved": True, "satisfaction": "satisfied"}),
        ("dispatcher", "classify", {"category": "010101"}),
        ("dispatcher", "dispatch", {}),
        ("leader", "close", {"note": "结案"}),
        ("leader", "approve_extension", {}),  # nothing is pending
    ],
)
def test_actions_in_the_wrong_state_are_409_and_change_nothing(street, api, actor, action, body):
    case = dispatched(street, category="010101", unit="ZHZF")  # waiting for the unit's response
    before = list(Case.objects.filter(pk=case.pk).values())
    response = api(getattr(street.users, actor)).post(f"/cases/{case.number}/actions/{action}", body)
    assert response.status_code == 409
    assert response.json()["errors"][0]["message"]
    assert list(Case.objects.filter(pk=case.pk).values()) == before
    assert case.events.count() == 2


def test_unknown_action_is_404(street, api):
    case = submit(street)
    response = api(street.users.dispatcher).post(f"/cases/{case.number}/actions/teleport", {})
    assert response.status_code == 404
    assert "teleport" in response.json()["errors"][0]["message"]


def test_body_validation_names_the_field(street, api):
    case = dispatched(street, category="010101", unit="ZHZF")
    handler = api(street.users.handler)
    response = handler.post(f"/cases/{case.number}/actions/request_extension", {"extra_workdays": "three"})
    assert response.status_code == 422
    assert fields_of(response) == {"extra_workdays"}
    response = handler.post(f"/cases/{case.number}/actions/request_extension", {"extra_workdays": 99, "reason": "太久"})
    assert response.status_code == 422 and fields_of(response) == {"extra_workdays"}
    response = api(street.users.dispatcher).post(
        f"/cases/{case.number}/actions/whistle", {"units": ["NOPE"], "report_hours": 4, "reason": "会商"}
    )
    assert response.status_code == 422 and fields_of(response) == {"units"}
    assert case.whistles.count() == 0


def test_resolve_with_photos_and_a_refused_non_image(street, api):
    from .conftest import b64, png_bytes

    case = dispatched(street, category="010101", unit="ZHZF")
    handler = api(street.users.handler)
    handler.post(f"/cases/{case.number}/actions/respond")
    refused = handler.post(
        f"/cases/{case.number}/actions/resolve", {"result": "已清运", "photos": [b64(b"%PDF-1.4 not a photo")]}
    )
    assert refused.status_code == 422 and fields_of(refused) == {"photos"}
    case.refresh_from_db()
    assert case.status == "in_progress" and case.photos.count() == 0
    body = handler.post(
        f"/cases/{case.number}/actions/resolve", {"result": "已清运", "photos": [b64(png_bytes())]}
    ).json()
    assert body["status"] == "rating"
    assert [(p["kind"], p["kind_label"]) for p in body["photos"]] == [("result", "办结照片")]
