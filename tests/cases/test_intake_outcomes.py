"""三事分流 at intake: a consultation answered on the spot, a private matter advised, an invalid
call voided — each closed at once with its log saying how, nothing dispatched; bad input refused
field by field with nothing written."""

import pytest

from jiedao.cases import services
from jiedao.cases.models import Case, CaseEvent, Status
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed


def call(user, **kwargs):
    values = {"channel": "12345", "description": "请问老年人优待证在哪里办理", "reporter_phone": "13712345678"}
    values.update(kwargs)
    case, _created = services.submit_case(user, **values)
    case.refresh_from_db()
    return case


def log(case):
    return list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", "to_status", "note"))


def test_a_consultation_answered_at_the_desk_is_closed_with_the_answer(street):
    answer = "老年人优待证在街道便民服务中心 3 号窗口办理，带身份证和一寸照片。"
    case = call(street.users.operator, outcome="answered", answer=answer)
    assert case.status == Status.CLOSED and case.outcome == "answered"
    assert case.closed_at == case.created_at and case.unit is None and case.dispatched_at is None
    assert log(case) == [("create", "new", ""), ("answer", "closed", answer)]


def test_a_private_matter_is_closed_with_the_advice(street):
    case = call(
        street.users.operator,
        description="邻居借钱不还",
        outcome="advised",
        answer="属于民间借贷纠纷，建议向法院起诉。",
    )
    assert case.status == Status.CLOSED and case.outcome == "advised"
    assert log(case)[-1][0] == "advise"


def test_an_invalid_call_is_voided_with_its_reason(street):
    case = call(street.users.operator, description="来电无声", outcome="voided", void_reason="silent")
    assert case.status == Status.VOIDED and case.outcome == "voided"
    event = CaseEvent.objects.get(case=case, action="void")
    assert event.data["reason"] == "silent" and event.data["reason_label"] == "无声电话或中途挂断"


def test_a_repeat_call_is_attached_to_the_open_case_instead(street, make_case):
    first = make_case(description="东湖小区3号楼路灯不亮")
    repeat = call(street.users.operator, description="3号楼路灯还是不亮", attach_to=first.number)
    assert repeat.status == Status.MERGED and repeat.master == first


@pytest.mark.parametrize(
    "kwargs, field, message",
    [
        ({"outcome": "answered"}, "answer", "直接答复时请填写答复内容。"),
        ({"outcome": "advised", "answer": "  "}, "answer", "私事告知时请填写给诉求人的建议。"),
        ({"outcome": "voided"}, "void_reason", "请选择无效原因"),
        ({"outcome": "voided", "void_reason": "bored"}, "void_reason", "请选择无效原因"),
        ({"outcome": "answered", "answer": "好", "dispatch": True, "category_code": "010101"}, "dispatch", "不再派单"),
        ({"outcome": "answered", "answer": "x" * 2001}, "answer", "不能超过 2000 个字"),
        ({"outcome": "closed"}, "outcome", "处理方式“closed”无效"),
    ],
)
def test_bad_outcomes_are_refused_by_field_and_nothing_is_written(street, kwargs, field, message):
    with pytest.raises(ValidationFailed) as raised:
        call(street.users.operator, **kwargs)
    assert any(e["field"] == field and message in e["message"] for e in raised.value.errors)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_only_the_desk_settles_calls(street):
    with pytest.raises(NotAllowed):
        call(street.users.resident, channel="portal", outcome="answered", answer="自己答复自己")
    assert not Case.objects.exists()


def test_a_call_waiting_in_the_queue_is_settled_by_the_dispatcher(street, make_case):
    waiting = make_case(description="请问社区什么时候打疫苗", category=None)
    case = services.settle(
        street.users.dispatcher, number=waiting.number, outcome="answered", answer="周三上午在社区卫生服务站。"
    )
    assert case.status == Status.CLOSED and case.outcome == "answered"
    assert log(case)[-1] == ("answer", "closed", "周三上午在社区卫生服务站。")


def test_a_dispatched_case_cannot_be_settled_at_the_desk(street, make_case):
    dispatched = make_case()
    with pytest.raises(InvalidTransition):
        services.settle(street.users.operator, number=dispatched.number, outcome="voided", void_reason="prank")
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED and dispatched.outcome == ""


def test_desk_outcomes_are_counted_apart_and_in_the_street_rates_only_by_the_setting(street, make_case, settings):
    import datetime as dt

    from jiedao.cases import measures

    unit = street.users.handler.unit.code
    on_time, late = make_case(unit=unit), make_case(description="井盖松动", unit=unit)
    services.respond(street.users.handler, number=on_time.number)
    services.respond(street.users.handler, number=late.number, at=late.response_due + dt.timedelta(hours=1))
    call(street.users.operator, outcome="answered", answer="社区卫生服务站每周三接种。")
    call(street.users.operator, outcome="advised", answer="建议协商解决。")
    call(street.users.operator, outcome="voided", void_reason="prank")
    month = measures.current_month()
    assert measures.desk_outcomes(month) == {"answered": 1, "advised": 1, "voided": 1}
    # Not counted (the default): 1 on time of 2 due.
    assert measures.response_rate(month) == 0.5
    settings.JIEDAO = {**settings.JIEDAO, "DESK_OUTCOMES_IN_RATES": {"answered": True, "advised": False}}
    # The answered call counts as responded on time street-wide: (1 + 1) / (2 + 1) …
    assert measures.response_rate(month) == 2 / 3
    # … but never in the unit's own rate.
    assert measures.response_rate(month, unit=on_time.unit.code) == 0.5


def test_the_overview_says_how_desk_calls_count(street, login, settings):
    call(street.users.operator, outcome="answered", answer="每周三。")
    page = login(street.users.leader).get("/cases/overview/").content.decode()
    assert "直接答复 1 件、私事告知 0 件、无效来电 0 件" in page and "不计入三率" in page
    settings.JIEDAO = {**settings.JIEDAO, "DESK_OUTCOMES_IN_RATES": {"answered": True, "advised": False}}
    page = login(street.users.leader).get("/cases/overview/").content.decode()
    assert "直接答复计入全街道的响应率和解决率" in page
