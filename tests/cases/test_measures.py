"""The 三率 and times on a tiny month built by hand, each checked against arithmetic
written out here. November 2026 has no public holiday; 环境卫生 cases must be answered
within 2 hours (around the clock) and finished within 3 working days."""

import datetime as dt

import pytest

from jiedao.cases import measures, services
from jiedao.workcal.calendar import SHANGHAI
from tests.cases.lifecycle import SANITATION

pytestmark = pytest.mark.django_db

MONTH = "2026-11"
MONTH_END = dt.datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)


def bj(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def month(street):
    """Four cases:

    A → ZHZF, Mon 2 Nov 09:00; responded 10:00 (1 h, on time); resolved Wed 4 Nov 15:00
        (2 working days: 3, 4 Nov; due Thu 5 Nov: on time); rated 满意, resolved.
    B → ZHZF, Tue 3 Nov 09:00; responded 12:00 (3 h, late: due 11:00); resolved Mon 9 Nov
        10:00 (4 working days: 4, 5, 6, 9 Nov; due Fri 6 Nov: overdue); rated 基本满意, resolved.
    C → ZHZF, Wed 4 Nov 09:00; responded 09:30 (0.5 h, on time); resolved Thu 5 Nov;
        rated 不满意 and not resolved on Fri 6 Nov 10:00 → reopened (重办), new limit Wed 11 Nov,
        still open at the end of the month: overdue.
    D → ZHZF, Thu 5 Nov 09:00; returned 10:00 (退单); dispatched to ZJ 10:30; never answered.
    """
    u = street.users

    def case(text, at):
        c, _ = services.submit_case(
            u.operator, channel="12345", description=text, reporter_phone="13800138000", category_code=SANITATION, at=at
        )
        return c

    a = case("A 垃圾清运", bj("2026-11-02 08:50"))
    services.dispatch(u.dispatcher, number=a.number, unit_code="ZHZF", at=bj("2026-11-02 09:00"))
    services.respond(u.handler, number=a.number, at=bj("2026-11-02 10:00"))
    services.resolve(u.handler, number=a.number, result="已清运", at=bj("2026-11-04 15:00"))
    services.rate(u.operator, number=a.number, resolved=True, satisfaction="satisfied", at=bj("2026-11-05 10:00"))

    b = case("B 垃圾清运", bj("2026-11-03 08:50"))
    services.dispatch(u.dispatcher, number=b.number, unit_code="ZHZF", at=bj("2026-11-03 09:00"))
    services.respond(u.handler, number=b.number, at=bj("2026-11-03 12:00"))
    services.resolve(u.handler, number=b.number, result="已清运", at=bj("2026-11-09 10:00"))
    services.rate(u.operator, number=b.number, resolved=True, satisfaction="basic", at=bj("2026-11-10 10:00"))

    c = case("C 垃圾清运", bj("2026-11-04 08:50"))
    services.dispatch(u.dispatcher, number=c.number, unit_code="ZHZF", at=bj("2026-11-04 09:00"))
    services.respond(u.handler, number=c.number, at=bj("2026-11-04 09:30"))
    services.resolve(u.handler, number=c.number, result="已清运", at=bj("2026-11-05 10:00"))
    services.rate(u.operator, number=c.number, resolved=False, satisfaction="unsatisfied", at=bj("2026-11-06 10:00"))

    d = case("D 垃圾清运", bj("2026-11-05 08:50"))
    services.dispatch(u.dispatcher, number=d.number, unit_code="ZHZF", at=bj("2026-11-05 09:00"))
    services.return_case(u.handler, number=d.number, reason="不属于执法队", at=bj("2026-11-05 10:00"))
    services.dispatch(u.dispatcher, number=d.number, unit_code="ZJ", at=bj("2026-11-05 10:30"))
    return street


def test_enforcement_team_month(month):
    m = measures.three_rates(MONTH, "ZHZF", now=MONTH_END)
    # D was handed on to ZJ, so ZHZF holds A, B, C.
    assert m.dispatched == 3
    assert m.rated == 3
    # 响应率: A and C answered in time, B late.
    assert m.response_rate == pytest.approx(2 / 3)
    # 解决率: A and B resolved, C not.
    assert m.resolution_rate == pytest.approx(2 / 3)
    # 满意率: (1 满意 + 0.9 × 1 基本满意) / 3.
    assert m.satisfaction_rate == pytest.approx((1 + 0.9 * 1) / 3)
    # Composite 10/50/40: 0.1 × 2/3 + 0.5 × 2/3 + 0.4 × 1.9/3 = 1.96/3.
    assert m.composite == pytest.approx(0.1 * 2 / 3 + 0.5 * 2 / 3 + 0.4 * 1.9 / 3)
    assert m.composite == pytest.approx(1.96 / 3)
    # Response hours: (1 + 3 + 0.5) / 3.
    assert m.average_response_hours == pytest.approx(1.5)
    # Handling working days over the cases resolved now: A 2, B 4 (C was reopened).
    assert m.average_handling_workdays == pytest.approx((2 + 4) / 2)
    # Overdue: B finished late, C open past its new limit; A in time.
    assert m.overdue_rate == pytest.approx(2 / 3)
    # Returns: 1 (D) of 4 dispatches to ZHZF.
    assert m.return_rate == pytest.approx(1 / 4)
    # Rework: C's rating reopened the case, 1 of 3 ratings.
    assert m.rework_rate == pytest.approx(1 / 3)


def test_housing_month(month):
    m = measures.three_rates(MONTH, "ZJ", now=MONTH_END)
    assert (m.dispatched, m.rated) == (1, 0)
    # D's response was due 12:30 on 5 Nov and never came.
    assert m.response_rate == 0.0
    assert m.overdue_rate == 1.0
    assert m.return_rate == 0.0
    # No rating, no response: these are unknown, not zero.
    assert m.resolution_rate is None and m.satisfaction_rate is None and m.rework_rate is None
    assert m.composite is None
    assert m.average_response_hours is None and m.average_handling_workdays is None


def test_response_not_yet_due_is_not_counted(month):
    # At 11:00 on 5 Nov, D (dispatched to ZJ at 10:30) still has until 12:30.
    assert measures.response_rate(MONTH, "ZJ", now=bj("2026-11-05 11:00")) is None
    assert measures.response_rate(MONTH, "ZJ", now=bj("2026-11-05 13:00")) == 0.0


def test_whole_street_month(month):
    m = measures.three_rates(MONTH, None, now=MONTH_END)
    assert m.dispatched == 4
    # A and C on time out of A, B, C, D.
    assert m.response_rate == pytest.approx(2 / 4)
    assert m.resolution_rate == pytest.approx(2 / 3)
    # 1 return of 5 dispatches (A, B, C, D, D again).
    assert m.return_rate == pytest.approx(1 / 5)
    # B, C and D overdue of 4.
    assert m.overdue_rate == pytest.approx(3 / 4)
    assert m.average_response_hours == pytest.approx(1.5)


def test_ranking_puts_units_with_a_composite_first(month):
    rows = measures.three_rates_by_unit(MONTH, now=MONTH_END)
    assert [r.unit_code for r in rows] == ["ZHZF", "ZJ"]
    assert rows[0].composite == pytest.approx(1.96 / 3) and rows[1].composite is None


def test_weights_come_from_settings(month, settings):
    settings.JIEDAO = {**settings.JIEDAO, "THREE_RATE_WEIGHTS": {"response": 1, "resolution": 1, "satisfaction": 2}}
    m = measures.three_rates(MONTH, "ZHZF", now=MONTH_END)
    assert m.composite == pytest.approx((2 / 3 + 2 / 3 + 2 * 1.9 / 3) / 4)


def test_a_month_without_data_gives_none_not_zero(month):
    m = measures.three_rates("2026-10", "ZHZF", now=MONTH_END)
    assert (m.dispatched, m.rated) == (0, 0)
    for value in (
        m.response_rate,
        m.resolution_rate,
        m.satisfaction_rate,
        m.composite,
        m.average_response_hours,
        m.average_handling_workdays,
        m.overdue_rate,
        m.return_rate,
        m.rework_rate,
    ):
        assert value is None


@pytest.mark.parametrize("bad", ["2026/11", "November", "2026-13", ""])
def test_a_bad_month_is_refused_naming_the_field(street, bad):
    from jiedao.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        measures.three_rates(bad)
    assert error.value.errors[0]["field"] == "month"
