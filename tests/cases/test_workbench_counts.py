"""The unit's workbench: the counts at the top (待响应, 办理中, 临期, 超期, 待报到), worked out by
hand for cases made with known states and deadlines; the list each count links to; the
whistles, finished ones folded away; and the reply-quality check asked while typing."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from jiedao.cases import selectors, services
from jiedao.cases.models import Case, Status, Urgency
from jiedao.cases.selectors import UnitCounts
from jiedao.intelligence.models import ReplyCheck
from jiedao.intelligence.rules import flag_label
from jiedao.workcal.calendar import SHANGHAI
from tests.fuzz import inputs

pytestmark = pytest.mark.django_db


def bj(day, hour=9, minute=30, second=0):
    """A moment of November 2026 in Beijing (no holiday that month)."""
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


# Wednesday 18 November 2026, 09:30 in Beijing: the moment the counts are taken.
NOW = bj(18)
H = dt.timedelta(hours=1)
FORM = "application/x-www-form-urlencoded"


def dispatched(street, text, at, unit=None):
    """A resident's case in 东湖社区, 环境卫生 (response within 2 hours around the clock, done
    within 3 working days, by the end of the day), dispatched at ``at`` — to 东湖社区居委会 by
    the routing rule unless ``unit`` names another."""
    u = street.users
    case, _created = services.submit_case(
        u.resident, channel="portal", description=text, lat=39.905, lng=116.405, at=at
    )
    services.classify(u.dispatcher, number=case.number, category_code="010101", at=at)
    services.dispatch(u.dispatcher, number=case.number, unit_code=unit, at=at)
    return case.number


def responded(street, text, at, handler=None):
    number = dispatched(street, text, at)
    services.respond(handler or street.users.handler_committee, number=number, at=at + dt.timedelta(minutes=30))
    return number


@pytest.fixture
def shift(street):
    """One unit's day, each case's state and deadline worked out by hand (comments: at NOW)."""
    u = street.users
    n = {}
    # 待响应, green: response due 10:00, done by Mon 23 Nov.
    n["waiting"] = dispatched(street, "东湖小区3号楼门口垃圾桶满了", NOW - H / 2)
    # 待响应, red: the response was due at 08:30.
    n["unanswered"] = dispatched(street, "东湖小区北门建筑垃圾堆放多日", NOW - 3 * H)
    # 办理中, green: done by Mon 23 Nov.
    n["fresh"] = responded(street, "东湖小区5号楼楼道堆物", NOW - H)
    # 办理中, red: dispatched Mon 9 Nov, done by Thu 12 Nov 23:59:59.
    n["late"] = responded(street, "东湖小区花坛里有死老鼠", bj(9))
    # 办理中, yellow: dispatched Fri 13 Nov, done by Wed 18 Nov 23:59:59: 14.5 of 134.5 hours left.
    n["close"] = responded(street, "东湖小区地下车库积水发臭", bj(13))
    # 办理中, green although first dispatched on 2 Nov: reopened on Mon 16 Nov, the clock restarted
    # then, done by Thu 19 Nov 23:59:59: 38.5 of 86.5 hours left (from 2 Nov it would be 9 %).
    n["reopened"] = responded(street, "东湖小区路面油污没人清理", bj(2))
    services.resolve(u.handler_committee, number=n["reopened"], result="已派人清理干净", at=bj(3))
    services.rate(u.resident, number=n["reopened"], resolved=False, satisfaction="unsatisfied", at=bj(16))
    # Resolved, waiting for the rating: none of the counts.
    n["resolved"] = responded(street, "东湖小区健身器材旁垃圾", NOW - 2 * H)
    services.resolve(u.handler_committee, number=n["resolved"], result="今日已清运完毕", at=NOW - H)

    # Another unit's cases, to which the unit is summoned (吹哨).
    n["summoned"] = dispatched(street, "东湖小区外墙广告牌松动", NOW - 3 * H, unit="ZHZF")
    services.blow_whistle(
        u.dispatcher,
        number=n["summoned"],
        unit_codes=["JWH01", "GGFW"],
        report_hours=4,
        reason="需社区配合",
        at=NOW - 2 * H,
    )
    n["reported"] = dispatched(street, "东湖小区门前占道经营", NOW - H, unit="ZHZF")
    services.blow_whistle(
        u.dispatcher, number=n["reported"], unit_codes=["JWH01"], report_hours=2, reason="需社区劝导", at=NOW - H
    )
    services.report_to_whistle(u.handler_committee, number=n["reported"], part="社区劝导商户", at=NOW - H / 2)
    n["over"] = dispatched(street, "东湖小区非法小广告", NOW - 5 * H, unit="ZHZF")
    services.respond(u.handler, number=n["over"], at=NOW - 5 * H)
    services.blow_whistle(
        u.dispatcher, number=n["over"], unit_codes=["JWH01"], report_hours=2, reason="需社区清理", at=NOW - 4 * H
    )
    services.resolve(u.handler, number=n["over"], result="今日已清除全部小广告", at=NOW - 2 * H)
    return n


def test_the_deadlines_are_the_ones_worked_out_by_hand(street, shift):
    due = {number: Case.objects.get(number=number).completion_due for number in shift.values()}
    assert due[shift["late"]] == bj(12, 23, 59, 59)
    assert due[shift["close"]] == bj(18, 23, 59, 59)
    assert due[shift["reopened"]] == bj(19, 23, 59, 59)
    assert Case.objects.get(number=shift["unanswered"]).response_due == NOW - H


def test_counts_of_the_unit(street, shift):
    counts = selectors.unit_counts(street.users.handler_committee, now=NOW)
    assert counts == UnitCounts(dispatched=2, in_progress=4, due_soon=1, overdue=2, to_report=1)


def test_counts_follow_the_clock(street, shift):
    # Thursday 00:30: the case due on Wednesday night and the unanswered one of 09:00 are late too.
    counts = selectors.unit_counts(street.users.handler_committee, now=NOW + 15 * H)
    assert counts == UnitCounts(dispatched=2, in_progress=4, due_soon=0, overdue=4, to_report=1)


def test_another_unit_counts_only_its_own(street, shift):
    # 综合执法队 holds the summoned case (dispatched 06:30, not answered: red) and the one with the
    # report (dispatched 08:30, response due 10:30: green); the third is resolved.
    counts = selectors.unit_counts(street.users.handler, now=NOW)
    assert counts == UnitCounts(dispatched=2, in_progress=0, due_soon=0, overdue=1, to_report=0)


def test_the_list_filtered_by_a_count_holds_those_cases(street, shift):
    user = street.users.handler_committee
    # The deadline sweep never ran: the stored level is green everywhere, the rule says otherwise.
    assert set(Case.objects.filter(unit__code="JWH01").values_list("urgency", flat=True)) == {Urgency.GREEN}

    def listed(**filters):
        rows, _cursor = selectors.unit_cases(user, now=NOW, **filters)
        return [case.number for case in rows]

    assert listed(level="red") == [shift["late"], shift["unanswered"]]  # earliest deadline first
    assert listed(level="yellow") == [shift["close"]]
    assert set(listed(level="green")) == {shift[k] for k in ("waiting", "fresh", "reopened", "resolved")}
    assert set(listed(status=Status.DISPATCHED)) == {shift["waiting"], shift["unanswered"]}
    assert len(listed()) == 7
    with pytest.raises(Exception, match="时限状态"):
        listed(level="purple")


def test_whistles_waiting_and_finished(street, shift):
    whistles = selectors.unit_whistles(street.users.handler_committee)
    assert [s.whistle.case.number for s in whistles.waiting] == [shift["summoned"]]
    assert {s.whistle.case.number for s in whistles.finished} == {shift["reported"], shift["over"]}
    assert whistles.finished_count == 2


# --- the page ------------------------------------------------------------------------------


def tile(page, key):
    match = re.search(
        rf'href="([^"]*)" data-count="{key}"[^>]*>\s*<span class="kpi-label">[^<]*</span>'
        rf'<span class="kpi-value" data-value>(\d+)</span>',
        page,
    )
    assert match, key
    return match.group(1).replace("&amp;", "&"), int(match.group(2))


def test_the_page_shows_the_counts_first_and_each_filters_the_list(street, login, make_case):
    u = street.users
    waiting = make_case(description="东湖小区垃圾桶满了")
    working = make_case(description="东湖小区楼道堆物")
    services.respond(u.handler_committee, number=working.number)
    other = make_case(description="外墙广告牌松动", unit="ZHZF")
    services.blow_whistle(u.dispatcher, number=other.number, unit_codes=["JWH01"], report_hours=4, reason="需社区配合")
    client = login(u.handler_committee)

    page = client.get(reverse("cases:workbench")).content.decode()
    assert page.index("data-counts") < page.index(f'data-case="{waiting.number}"') < page.index("data-whistles")
    assert {key: tile(page, key)[1] for key in ("dispatched", "in_progress", "due_soon", "overdue", "to_report")} == {
        "dispatched": 1,
        "in_progress": 1,
        "due_soon": 0,
        "overdue": 0,
        "to_report": 1,
    }
    url, _value = tile(page, "dispatched")
    filtered = client.get(reverse("cases:workbench") + url)
    assert [c.number for c in filtered.context["rows"]] == [waiting.number]
    assert 'aria-current="true"' in filtered.content.decode()
    assert tile(page, "to_report")[0] == "#whistles"
    whistles = page[page.index('id="whistles"') :]
    assert other.number in whistles and "待报到" in whistles and "data-finished-whistles" not in whistles

    # Reported: the whistle is folded away (closed), with its count.
    services.report_to_whistle(u.handler_committee, number=other.number, part="社区配合清理")
    page = client.get(reverse("cases:workbench")).content.decode()
    assert tile(page, "to_report")[1] == 0
    folded = re.search(r"<details class=\"finished-whistles\"( open)?[^>]*>\s*<summary>([^<]*)</summary>", page)
    assert folded and folded.group(1) is None and "1" in folded.group(2)
    assert "没有需要报到的吹哨" in page


def test_bad_filters_answer_with_the_page(street, login):
    client = login(street.users.handler_committee)
    response = client.get(reverse("cases:workbench"), {"urgency": "purple", "status": "x"})
    assert response.status_code == 200


# --- the reply check while typing --------------------------------------------------------


def test_reply_check_shows_the_services_warnings_before_submit_and_keeps_nothing(street, login, make_case):
    u = street.users
    case = make_case(description="东湖小区3号楼门口垃圾桶满了，气味很大")
    services.respond(u.handler_committee, number=case.number)
    client = login(u.handler_committee)
    url = reverse("cases:reply_check", args=[case.number])

    vague = client.post(url, {"result": "收到，会处理"}).content.decode()
    assert 'data-reply-check="flagged"' in vague
    shown = re.findall(r"<li data-flag>([^<]+)</li>", vague)
    assert "未写明具体措施" in shown and "未写明时间" in shown
    assert ReplyCheck.objects.count() == 0

    good = client.post(url, {"result": "已安排保洁员今天下午清运垃圾桶，并对3号楼门口消毒"}).content.decode()
    assert 'data-reply-check="ok"' in good
    assert client.post(url, {"result": "   "}).content.decode().strip() == ""
    assert ReplyCheck.objects.count() == 0

    # Submitted anyway: the service's own check raises the same warnings.
    page = client.post(
        reverse("cases:action", args=[case.number, "resolve"]), {"result": "收到，会处理"}, follow=True
    ).content.decode()
    check = ReplyCheck.objects.get(case__number=case.number)
    assert "未写明具体措施" in page and "未写明时间" in page
    assert [flag_label(f) for f in check.flags] == shown


def test_reply_check_only_for_who_may_resolve(street, login, make_case):
    u = street.users
    case = make_case(description="东湖小区楼道灯坏了")
    client = login(u.handler_committee)
    url = reverse("cases:reply_check", args=[case.number])
    assert client.post(url, {"result": "已修好"}).status_code == 403  # not yet responded to
    assert client.get(url).status_code == 405
    assert login(u.handler).post(url, {"result": "已修好"}).status_code == 404  # another unit's case


def test_reply_check_answers_the_sharpest_input_without_a_server_error(street, login, make_case):
    u = street.users
    case = make_case(description="东湖小区楼道灯坏了")
    services.respond(u.handler_committee, number=case.number)
    client = login(u.handler_committee)
    url = reverse("cases:reply_check", args=[case.number])
    for edge in inputs.sharp_edges_for("result"):
        response = client.generic("POST", url, inputs.form_body({"result": edge}), content_type=FORM)
        assert response.status_code == 200, repr(edge)[:80]
    assert ReplyCheck.objects.count() == 0
