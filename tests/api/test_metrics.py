"""GET /api/v1/metrics/three-rates against figures worked out by hand."""

import datetime as dt

import pytest

from jiedao.cases import services
from tests.factories import WEDNESDAY

from .conftest import fields_of, submit

HOUR = dt.timedelta(hours=1)


def handled(street, category, unit, respond_after, rating, at=WEDNESDAY):
    """One case dispatched at ``at``, answered ``respond_after`` later, resolved and rated."""
    u = street.users
    handler = {"ZHZF": u.handler, "ZJ": u.handler_housing}[unit]
    case = submit(street, category_code=category, at=at)
    services.dispatch(u.dispatcher, number=case.number, unit_code=unit, at=at)
    services.respond(handler, number=case.number, at=at + respond_after)
    services.resolve(handler, number=case.number, result="已处理", at=at + respond_after + HOUR)
    resolved, satisfaction = rating
    services.rate(
        u.dispatcher, number=case.number, resolved=resolved, satisfaction=satisfaction, at=at + dt.timedelta(days=1)
    )
    return case


@pytest.fixture
def november(street):
    # 综合执法队: one answered in 1 h (on time), one in 3 h (late; the limit is 2 h).
    handled(street, "010101", "ZHZF", 1 * HOUR, (True, "satisfied"))
    handled(street, "010101", "ZHZF", 3 * HOUR, (True, "basic"))
    # 住建: answered within its 4 office hours, then rated unresolved and unsatisfied (reopened).
    handled(street, "010201", "ZJ", 1 * HOUR, (False, "unsatisfied"))


def test_a_units_rates_match_the_hand_computed_values(street, api, november):
    body = api(street.users.leader).get("/metrics/three-rates", {"month": "2026-11", "unit": "ZHZF"}).json()
    assert body["unit_code"] == "ZHZF" and body["unit_name"] == "综合执法队" and body["month"] == "2026-11"
    assert body["dispatched"] == 2 and body["rated"] == 2
    assert body["response_rate"] == pytest.approx(1 / 2)
    assert body["resolution_rate"] == pytest.approx(2 / 2)
    assert body["satisfaction_rate"] == pytest.approx((1 + 0.9) / 2)
    # 10 % × 0.5 + 50 % × 1 + 40 % × 0.95
    assert body["composite"] == pytest.approx(0.05 + 0.5 + 0.38)
    assert body["average_response_hours"] == pytest.approx((1 + 3) / 2)
    assert body["return_rate"] == 0 and body["rework_rate"] == 0
    assert body["units"] is None

    zj = api(street.users.leader).get("/metrics/three-rates", {"month": "2026-11", "unit": "ZJ"}).json()
    assert (zj["response_rate"], zj["resolution_rate"], zj["satisfaction_rate"]) == (1, 0, 0)
    assert zj["composite"] == pytest.approx(0.1)
    assert zj["rework_rate"] == 1


def test_the_street_with_every_unit(street, api, november):
    body = api(street.users.dispatcher).get("/metrics/three-rates", {"month": "2026-11"}).json()
    assert body["unit_code"] == "" and body["unit_name"] == "全街道"
    assert body["dispatched"] == 3 and body["rated"] == 3
    assert body["response_rate"] == pytest.approx(2 / 3)
    assert body["resolution_rate"] == pytest.approx(2 / 3)
    assert body["satisfaction_rate"] == pytest.approx(1.9 / 3)
    assert [(row["unit_code"], row["dispatched"]) for row in body["units"]] == [("ZHZF", 2), ("ZJ", 1)]


def test_a_month_without_cases_has_no_rates_rather_than_zero(street, api, november):
    body = api(street.users.admin).get("/metrics/three-rates", {"month": "2026-10"}).json()
    assert body["dispatched"] == 0 and body["units"] == []
    assert body["response_rate"] is None and body["satisfaction_rate"] is None and body["composite"] is None


def test_a_handler_sees_only_their_own_unit(street, api, november):
    handler = api(street.users.handler)
    own = handler.get("/metrics/three-rates", {"month": "2026-11"})
    assert own.status_code == 200
    assert own.json()["unit_code"] == "ZHZF" and own.json()["dispatched"] == 2 and own.json()["units"] is None
    assert handler.get("/metrics/three-rates", {"month": "2026-11", "unit": "ZHZF"}).status_code == 200
    refused = handler.get("/metrics/three-rates", {"month": "2026-11", "unit": "ZJ"})
    assert refused.status_code == 403
    assert "本单位" in refused.json()["errors"][0]["message"]


@pytest.mark.parametrize("who", ["operator", "grid", "resident"])
def test_other_roles_may_not_read_the_rates(street, api, who):
    assert api(getattr(street.users, who)).get("/metrics/three-rates", {"month": "2026-11"}).status_code == 403


@pytest.mark.parametrize(
    "params,field",
    [({"month": "2026-13"}, "month"), ({"month": "November"}, "month"), ({"month": "2026-11", "unit": "NOPE"}, "unit")],
)
def test_bad_parameters_name_the_field(street, api, params, field):
    response = api(street.users.leader).get("/metrics/three-rates", params)
    assert response.status_code == 422
    assert fields_of(response) == {field}
