"""Supplies: the ledger never takes a stock below zero, transfers move stock between
depots, 储备达标率 and expiry warnings follow the stock; agreements are called off
during an event and their delivery time measured; drills and training rates."""

import datetime as dt

import pytest

from jiedao.common.errors import InvalidTransition, ValidationFailed
from jiedao.emergency import selectors, services
from jiedao.emergency.models import Agreement, Depot, Drill, Movement, Stock

from .conftest import NOW, minutes

pytestmark = pytest.mark.django_db


@pytest.fixture
def depot(street):
    depot = Depot.objects.create(name="街道应急物资库", community=street.communities[0])
    Stock.objects.create(depot=depot, item="沙袋", unit_label="袋", quantity=100, required=200)
    Stock.objects.create(
        depot=depot,
        item="口罩",
        unit_label="个",
        quantity=500,
        required=500,
        expires_on=dt.date.today() + dt.timedelta(days=10),
    )
    return depot


def test_stock_never_goes_negative(street, depot):
    sandbags = depot.stocks.get(item="沙袋")
    services.move_stock(street.users.handler, stock_id=sandbags.pk, kind="out", quantity=60)
    with pytest.raises(ValidationFailed) as error:
        services.move_stock(street.users.handler, stock_id=sandbags.pk, kind="out", quantity=41)
    assert "只有40袋" in str(error.value)
    assert Stock.objects.get(pk=sandbags.pk).quantity == 40
    assert list(Movement.objects.values_list("kind", "quantity", "balance")) == [("out", 60, 40)]


def test_api_refuses_over_issue_with_422(street, depot, login):
    sandbags = depot.stocks.get(item="沙袋")
    client = login(street.users.handler)
    response = client.post(
        f"/api/v1/emergency/stocks/{sandbags.pk}/movements",
        {"kind": "out", "quantity": 101},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "quantity"
    response = client.post(
        f"/api/v1/emergency/stocks/{sandbags.pk}/movements",
        {"kind": "in", "quantity": 100},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["balance"] == 200


def test_compliance_rate_and_transfer(street, depot):
    other = Depot.objects.create(name="东湖社区应急服务站")
    rates = {d.name: d.rate for d in selectors.depots(street.users.leader)}
    assert rates["街道应急物资库"] == 0.5  # masks at level, sandbags short
    services.move_stock(street.users.handler, stock_id=depot.stocks.get(item="沙袋").pk, kind="in", quantity=100)
    services.transfer_stock(
        street.users.handler, stock_id=depot.stocks.get(item="口罩").pk, to_depot_id=other.pk, quantity=100
    )
    assert other.stocks.get(item="口罩").quantity == 100
    rates = {d.name: d.rate for d in selectors.depots(street.users.leader)}
    assert rates["街道应急物资库"] == 0.5  # sandbags now at level, masks short after the transfer
    kinds = set(Movement.objects.values_list("kind", flat=True))
    assert kinds == {"in", "transfer_out", "transfer_in"}


def test_expiring_stock_is_listed(street, depot):
    assert [s.item for s in selectors.expiring(street.users.leader)] == ["口罩"]
    services.move_stock(street.users.handler, stock_id=depot.stocks.get(item="口罩").pk, kind="expiry", quantity=500)
    assert selectors.expiring(street.users.leader) == []


def test_agreement_call_off_is_recorded_and_timed(street):
    emergency = services.report_emergency(street.users.dispatcher, title="内涝", kind="flood", at=NOW)
    shop = Agreement.objects.create(supplier="东湖超市", goods="饮用水、方便食品", delivery_hours=2)
    call = services.call_off(
        street.users.dispatcher, number=emergency.number, agreement_id=shop.pk, goods="饮用水50箱", at=NOW + minutes(5)
    )
    services.mark_delivered(street.users.dispatcher, call_id=call.pk, at=NOW + minutes(95))
    [row] = selectors.calls_of(emergency)
    assert (row.minutes, row.on_time) == (90.0, True)
    assert emergency.events.filter(action="calloff").exists()


def test_drill_coverage_and_training_rate(street):
    year = 2026
    d = services.plan_drill(
        street.users.leader,
        title="防汛演练",
        kind="flood",
        community_id=street.communities[0].pk,
        planned_on=dt.date(year, 6, 1),
    )
    assert selectors.drill_coverage(year)["covered"] == 0
    services.complete_drill(
        street.users.leader, drill_id=d.pk, held_on=dt.date(year, 6, 2), participants=40, findings="排水泵启动慢"
    )
    cov = selectors.drill_coverage(year)
    assert (cov["covered"], cov["total"], cov["rate"]) == (1, 2, 0.5)
    assert Drill.objects.get(pk=d.pk).status == "done"
    with pytest.raises(InvalidTransition):  # a drill is recorded as held once
        services.complete_drill(street.users.leader, drill_id=d.pk, held_on=dt.date(year, 6, 3), participants=5)
    assert Drill.objects.get(pk=d.pk).participants == 40
    u = street.users
    for user, passed in [(u.handler, True), (u.grid, True), (u.dispatcher, False)]:
        services.record_training(u.admin, trainee=user, year=year, passed=passed)
    rate = selectors.training_pass_rate(year)
    assert (rate["passed"], rate["trained"]) == (2, 3)
