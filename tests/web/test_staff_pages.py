"""Operator intake, grid report, dispatcher queue, case page actions, leader overview."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from jiedao.cases import measures, services
from jiedao.cases.models import Case, Extension, Status
from jiedao.common.models import AccessLog


def test_operator_registers_and_dispatches_at_once(street, login):
    client = login(street.users.operator)
    response = client.post(
        reverse("cases:intake"),
        {
            "channel": "12345",
            "reporter_name": "张先生",
            "reporter_phone": "010-62345678",
            "description": "街口路灯连续三晚不亮",
            "cat1": "01",
            "cat2": "0101",
            "cat3": "010102",
            "grid": "1101050010201",
            "dispatch": "on",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == "12345" and case.category.code == "010102"
    assert case.status == Status.DISPATCHED and case.unit == street.units.enforcement
    assert case.community == street.communities[1]
    assert case.number in client.get(reverse("cases:intake")).content.decode()


def test_intake_errors_name_the_field_and_keep_the_input(street, login):
    client = login(street.users.operator)
    response = client.post(
        reverse("cases:intake"),
        {
            "channel": "window",
            "reporter_name": "张先生",
            "reporter_phone": "abc",
            "description": "",
            "cat1": "01",
            "cat2": "0101",
            "dispatch": "on",
            "lat": "39.9",
        },
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "请描述" in errors["description"][0]
    assert "不是有效的大陆电话号码" in errors["reporter_phone"][0]
    assert "最末一级" in errors["category"][0]
    assert "经纬度需同时填写" in errors["lng"][0]
    page = response.content.decode()
    assert 'value="张先生"' in page
    assert '<option value="0101" selected>' in page  # the picker keeps the chosen branch
    assert not Case.objects.exists()


def test_category_picker_offers_the_children_of_the_choice(street, login):
    client = login(street.users.operator)
    page = client.get(reverse("cases:category_picker"), {"cat1": "01", "cat2": "", "cat3": ""}).content.decode()
    assert "城市建设和市政管理" in page and "住房保障" in page and "养老服务" not in page
    found = client.get(reverse("cases:category_picker"), {"catq": "公共设施"}).content.decode()
    assert 'value="010102"' in found and 'value="020101"' not in found
    search = client.get(reverse("cases:category_picker"), {"catq": "养老"}).content.decode()
    assert 'value="020101"' in search


def test_grid_worker_reports_with_position(street, login):
    client = login(street.users.grid)
    response = client.post(
        reverse("cases:grid_report"), {"description": "绿化带里堆了建筑垃圾", "lat": "39.905", "lng": "116.415"}
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == "grid" and case.grid == street.grids[1] and case.reporter_phone == ""
    empty = client.post(reverse("cases:grid_report"), {"description": ""})
    assert empty.status_code == 422 and Case.objects.count() == 1


def test_dispatcher_queue_tabs_suggestion_and_one_click_dispatch(street, login, make_case):
    routed = make_case(dispatch=False)
    unclassified = make_case(category=None, description="不知道归谁管的事")
    client = login(street.users.dispatcher)
    page = client.get(reverse("cases:dispatch"), {"tab": "new"}).content.decode()
    assert routed.number in page and unclassified.number not in page
    assert "派给 东湖社区居委会" in page
    page = client.get(reverse("cases:dispatch"), {"tab": "unclassified"}).content.decode()
    assert unclassified.number in page and "data-classify" in page

    response = client.post(
        reverse("cases:action", args=[routed.number, "dispatch"]), {"next": "/cases/dispatch/?tab=new"}
    )
    assert response.status_code == 302 and response["Location"] == "/cases/dispatch/?tab=new"
    routed.refresh_from_db()
    assert routed.status == Status.DISPATCHED and routed.unit == street.units.committee1

    client.post(
        reverse("cases:action", args=[unclassified.number, "classify"]),
        {"cat1": "01", "cat2": "0102", "cat3": "010201"},
    )
    client.post(reverse("cases:action", args=[unclassified.number, "dispatch"]), {"unit": "GGFW"})
    unclassified.refresh_from_db()
    assert unclassified.category.code == "010201" and unclassified.unit == street.units.service


def test_returned_cases_come_back_to_the_queue(street, login, make_case):
    case = make_case()
    client = login(street.users.handler_committee)
    bad = client.post(reverse("cases:action", args=[case.number, "return"]), {"reason": " "})
    assert bad.status_code == 422
    assert "退单必须填写理由" in bad.content.decode()
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED
    client.post(reverse("cases:action", args=[case.number, "return"]), {"reason": "不属于居委会职责"})
    page = login(street.users.dispatcher).get(reverse("cases:dispatch"), {"tab": "returned"}).content.decode()
    assert case.number in page


def test_case_page_masks_reporter_for_leader_and_logs_unmasked_views(street, login, make_case):
    case = make_case()
    leader_page = login(street.users.leader).get(reverse("cases:case", args=[case.number])).content.decode()
    assert "13800138000" not in leader_page and "138****8000" in leader_page
    assert not AccessLog.objects.exists()
    handler_page = login(street.users.handler_committee).get(reverse("cases:case", args=[case.number])).content.decode()
    assert "13800138000" in handler_page
    log = AccessLog.objects.get()
    assert log.user == street.users.handler_committee and "reporter_phone" in log.fields


def test_case_page_shows_the_actions_of_the_current_user(street, login, make_case):
    case = make_case()
    handler_page = login(street.users.handler_committee).get(reverse("cases:case", args=[case.number]))
    actions = {f["action"] for f in handler_page.context["action_forms"]}
    assert {"respond", "return", "request_extension"} <= actions and "dispatch" not in actions
    leader_actions = {
        f["action"]
        for f in login(street.users.leader).get(reverse("cases:case", args=[case.number])).context["action_forms"]
    }
    assert "whistle" in leader_actions and "respond" not in leader_actions


def test_action_errors_keep_the_typed_input_and_write_nothing(street, login, make_case):
    case = make_case()
    client = login(street.users.handler_committee)
    response = client.post(
        reverse("cases:action", args=[case.number, "request_extension"]),
        {"extra_workdays": "99", "reason": "需要协调物业和住建两家单位"},
    )
    assert response.status_code == 422
    form = {f["action"]: f for f in response.context["action_forms"]}["request_extension"]["form"]
    assert "1到30个工作日" in form.errors["extra_workdays"][0]
    assert "需要协调物业和住建两家单位" in response.content.decode()
    assert not Extension.objects.exists()


def test_wrong_state_is_a_clear_conflict(street, login, make_case):
    case = make_case()
    client = login(street.users.handler_committee)
    client.post(reverse("cases:action", args=[case.number, "respond"]), {})
    again = client.post(reverse("cases:action", args=[case.number, "respond"]), {})
    assert again.status_code == 409
    assert "当前状态为“办理中”，不能“响应”" in again.content.decode()


def test_handler_loop_on_the_case_page_and_whistle_status(street, login, make_case):
    case = make_case(unit="ZHZF")
    leader = login(street.users.leader)
    leader.post(
        reverse("cases:action", args=[case.number, "whistle"]),
        {"units": ["ZJ", "JWH01"], "report_hours": "24", "reason": "需住建和居委会联合处置"},
    )
    housing = login(street.users.handler_housing)
    assert case.number in housing.get(reverse("cases:workbench")).content.decode()
    housing.post(reverse("cases:action", args=[case.number, "report"]), {"part": "负责核实房屋结构"})
    page = housing.get(reverse("cases:case", args=[case.number])).content.decode()
    assert "已报到" in page and "未报到" in page

    handler = login(street.users.handler)
    handler.post(reverse("cases:action", args=[case.number, "respond"]), {"note": "已电话联系居民"})
    handler.post(reverse("cases:action", args=[case.number, "resolve"]), {"result": "已清理完毕"})
    case.refresh_from_db()
    assert case.status == Status.RATING
    timeline = handler.get(reverse("cases:case", args=[case.number])).content.decode()
    for label in ("受理", "分类", "派单", "吹哨", "报到", "响应", "办结反馈"):
        assert label in timeline


def test_overview_shows_rates_and_decides_extensions(street, login, make_case):
    client = login(street.users.leader)
    page = client.get(reverse("cases:overview")).content.decode()
    assert "无数据" in page
    case = make_case()
    u = street.users
    services.respond(u.handler_committee, number=case.number)
    services.request_extension(u.handler_committee, number=case.number, extra_workdays=3, reason="需要等材料到货")
    page = client.get(reverse("cases:overview")).content.decode()
    assert case.number in page and "需要等材料到货" in page
    client.post(reverse("cases:action", args=[case.number, "approve_extension"]), {"next": "/cases/overview/"})
    assert Extension.objects.get().decision == "approved"
    services.resolve(u.handler_committee, number=case.number, result="已修好")
    services.rate(u.resident, number=case.number, resolved=True, satisfaction="satisfied")
    response = client.get(reverse("cases:overview"))
    assert response.context["total"].resolution_rate == 1
    page = response.content.decode()
    assert 'data-rate="resolution">100%' in page and "东湖社区居委会" in page and "<svg" in page


def test_overview_month_picker_and_bad_month(street, login):
    client = login(street.users.leader)
    response = client.get(reverse("cases:overview"), {"month": "2026-13"})
    assert response.status_code == 200
    assert response.context["month"] == measures.current_month()
    assert "月份格式" in response.content.decode()
    last_year = client.get(reverse("cases:overview"), {"month": "2025-01"})
    assert last_year.context["month"] == "2025-01" and last_year.context["prev_month"] == "2024-12"


def test_overdue_and_supervised_cases_are_marked_red(street, login, make_case):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(completion_due=timezone.now() - dt.timedelta(hours=1), urgency="red")
    services.supervise(
        street.users.leader, number=case.number, note="请今天内办结", due=timezone.now() + dt.timedelta(hours=4)
    )
    page = login(street.users.leader).get(reverse("cases:overview")).content.decode()
    assert case.number in page and "badge-supervise" in page and "badge-red" in page
    workbench = login(street.users.handler_committee).get(reverse("cases:workbench")).content.decode()
    assert "badge-supervise" in workbench and "已超期" in workbench


def test_case_page_renders_every_action_form_along_the_loop(street, login, make_case):
    u = street.users
    case = make_case(category="010102", unit="ZHZF")  # street lamps need on-site verification
    steps = [
        (u.dispatcher, {"whistle", "merge", "supervise"}),
        (u.leader, {"whistle", "supervise", "merge"}),
    ]
    for user, expected in steps:
        page = login(user).get(reverse("cases:case", args=[case.number]))
        assert page.status_code == 200
        assert expected <= {f["action"] for f in page.context["action_forms"]}
    services.respond(u.handler, number=case.number)
    services.request_extension(u.handler, number=case.number, extra_workdays=2, reason="等配件")
    page = login(u.leader).get(reverse("cases:case", args=[case.number])).content.decode()
    assert 'data-action="approve_extension"' in page and "等配件" in page
    services.resolve(u.handler, number=case.number, result="已更换灯泡")
    page = login(u.grid).get(reverse("cases:case", args=[case.number]))
    assert {"verify_pass", "verify_fail"} <= {f["action"] for f in page.context["action_forms"]}
    response = login(u.grid).post(reverse("cases:action", args=[case.number, "verify_fail"]), {"note": ""})
    assert response.status_code == 422 and "核查不通过时请写明原因" in response.content.decode()
    login(u.grid).post(reverse("cases:action", args=[case.number, "verify_pass"]), {"reason": "已电话核实"})
    page = login(u.operator).get(reverse("cases:case", args=[case.number]))
    assert "rate" in {f["action"] for f in page.context["action_forms"]}
    login(u.operator).post(
        reverse("cases:action", args=[case.number, "rate"]), {"resolved": "yes", "satisfaction": "basic"}
    )
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    closed = login(u.dispatcher).get(reverse("cases:case", args=[case.number]))
    assert closed.context["action_forms"] == [] and "您当前没有可执行的操作" in closed.content.decode()
