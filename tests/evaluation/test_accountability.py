"""报到率, 协同完成率 and 重复投诉率, hand-computed on cases built through the case services.

November 2026 (环境卫生 cases go to the 东湖 committee JWH01; handlers: ZHZF ``handler``,
ZJ ``handler_zj``; 公共服务部 GGFW has nobody who could report):

case 1, dispatched Mon 2 Nov 09:00: whistle 12:00 summoning ZHZF and ZJ, report within 2 h
        (14:00): ZHZF reports 13:00 (on time), ZJ 15:00 (late); resolved Tue 3 Nov (on time).
case 2, dispatched Tue 3 Nov 09:00: whistle 12:00 summoning ZHZF and GGFW within 24 h: ZHZF
        reports 13:00 (on time), GGFW never; resolved an hour after its completion deadline.
case 3, dispatched Tue 10 Nov 09:00: whistle summoning ZJ within 72 h (Fri 13 Nov 09:00): ZJ
        never reports; never resolved.
case 4, dispatched Wed 4 Nov 09:00, no whistle, resolved on time: in neither measure.
"""

import datetime as dt

import pytest

from jiedao.cases import repeats, services
from jiedao.cases.models import Case
from jiedao.evaluation import compute, periods
from jiedao.evaluation import indicators as lib
from jiedao.evaluation.models import Result
from tests.cases.lifecycle import HOUR, drive
from tests.cases.test_repeats import FAR, call, closed

from .conftest import MONTH_END, bj

pytestmark = pytest.mark.django_db
STREET, EAST, WEST = "110105001", "11010500101", "11010500102"


def values(code, scope, now=MONTH_END, key="2026-11"):
    computed = lib.get(code).compute(periods.parse(key), scope, lib.Run(now=now))
    return {c: (v.value, v.numerator, v.denominator) for c, v in computed.items()}


def whistle(street, case, units, *, at, hours):
    return services.blow_whistle(
        street.users.dispatcher,
        number=case.number,
        unit_codes=units,
        report_hours=hours,
        reason="需多部门联合处置",
        at=at,
    )


def report(user, case, at):
    services.report_to_whistle(user, number=case.number, part="负责现场执法", at=at)


@pytest.fixture
def whistles(street):
    u = street.users
    one = drive(street, "in_progress", at=bj("2026-11-02 08:00"))
    whistle(street, one, ["ZHZF", "ZJ"], at=bj("2026-11-02 12:00"), hours=2)
    report(u.handler, one, bj("2026-11-02 13:00"))
    report(u.handler_housing, one, bj("2026-11-02 15:00"))
    services.resolve(u.handler_committee, number=one.number, result="已联合清运完毕", at=bj("2026-11-03 10:00"))

    two = drive(street, "in_progress", at=bj("2026-11-03 08:00"))
    whistle(street, two, ["ZHZF", "GGFW"], at=bj("2026-11-03 12:00"), hours=24)
    report(u.handler, two, bj("2026-11-03 13:00"))
    late = Case.objects.get(pk=two.pk).completion_due + HOUR
    assert late < MONTH_END
    services.resolve(u.handler_committee, number=two.number, result="已联合清运完毕", at=late)

    three = drive(street, "in_progress", at=bj("2026-11-10 08:00"))
    whistle(street, three, ["ZJ"], at=bj("2026-11-10 09:00"), hours=72)

    four = drive(street, "in_progress", at=bj("2026-11-04 08:00"))
    services.resolve(u.handler_committee, number=four.number, result="已清运完毕", at=bj("2026-11-04 12:00"))
    return one, two, three, four


def test_report_rate_counts_summonses_reported_by_their_deadline(whistles):
    # Due in November: 1·ZHZF ✓, 1·ZJ late, 2·ZHZF ✓, 2·GGFW never, 3·ZJ never.
    assert values("report_rate", "street") == {STREET: (pytest.approx(2 / 5), 2, 5)}
    by_unit = values("report_rate", "unit")
    assert by_unit["ZHZF"] == (1.0, 2, 2)
    assert by_unit["ZJ"] == (0.0, 0, 2)
    assert by_unit["GGFW"] == (0.0, 0, 1)
    assert "JWH01" not in by_unit  # holds the cases, was summoned to none
    assert values("report_rate", "community") == {EAST: (pytest.approx(2 / 5), 2, 5)}


def test_a_summons_whose_deadline_is_still_ahead_counts_neither_way(whistles):
    # On Thu 12 Nov case 3's deadline (Fri 13 Nov 09:00) is ahead and ZJ has not reported.
    assert values("report_rate", "street", now=bj("2026-11-12 12:00")) == {STREET: (0.5, 2, 4)}
    assert values("report_rate", "unit", now=bj("2026-11-12 12:00"))["ZJ"] == (0.0, 0, 1)


def test_cohandle_completion_counts_whistled_cases_resolved_by_their_deadline(whistles):
    # Cases 1 (on time), 2 (late), 3 (never); case 4 had no whistle.
    assert values("cohandle_completion_rate", "street") == {STREET: (pytest.approx(1 / 3), 1, 3)}
    by_unit = values("cohandle_completion_rate", "unit")
    assert by_unit["ZHZF"] == (0.5, 1, 2)  # cases 1 and 2
    assert by_unit["ZJ"] == (0.5, 1, 2)  # cases 1 and 3
    assert by_unit["GGFW"] == (0.0, 0, 1)  # case 2
    assert "JWH01" not in by_unit


def test_the_worker_stores_them_and_the_library_shows_their_definitions(whistles, login, street):
    compute.compute_period(periods.parse("2026-11"), MONTH_END, codes=["report_rate", "cohandle_completion_rate"])
    stored = Result.objects.get(indicator="report_rate", scope_kind="unit", scope_code="ZHZF", period_key="2026-11")
    assert stored.value == 1.0
    html = login(street.users.leader).get("/evaluation/").content.decode()
    for text in ("报到率", "协同完成率", "重复投诉率", "时限未到且尚未报到的不计入", "管理员标记为“矛盾纠纷类”"):
        assert text in html


def test_repeat_complaint_rate_by_street_and_community(street):
    first = closed(street, call(street, "13511112222", at=bj("2026-10-20 09:00")), at=bj("2026-10-20 09:00"))
    call(street, "13511112222", at=first.closed_at + dt.timedelta(days=16))  # the same caller, 5 Nov: a repeat
    call(street, "13622223333", at=bj("2026-11-05 09:00"), category="010102", where=FAR, description="路灯不亮")
    call(street, "13733334444", at=bj("2026-11-06 09:00"), where=(39.915, 116.405), description="西园垃圾满了")
    assert values("repeat_complaint_rate", "street") == {STREET: (pytest.approx(1 / 3), 1, 3)}
    month = periods.parse("2026-11")
    same = repeats.repeat_rate(start=month.start, end=month.end)
    assert (same.repeats, same.received) == (1, 3)
    assert values("repeat_complaint_rate", "community") == {EAST: (0.5, 1, 2), WEST: (0.0, 0, 1)}
    assert lib.get("repeat_complaint_rate").direction == lib.LOWER
