"""The forms of the emergency pages: a report the service refuses shows the board again with
what was typed; numbers are read as people type them (full-width digits too) and anything
else gets the service's own message; the units chosen on a step are the units recorded."""

import pytest

from jiedao.emergency import services
from jiedao.emergency.models import Depot, Emergency, Movement, Stock

pytestmark = pytest.mark.django_db


def test_a_refused_report_shows_the_board_again_with_what_was_typed(street, login):
    client = login(street.users.dispatcher)
    typed = {
        "title": "",
        "kind": "gas",
        "level": "2",
        "address": "东湖路1号楼东侧",
        "lat": "39.905",
        "lng": "116.405",
        "description": "楼道里有燃气味",
    }
    response = client.post("/emergency/", typed)
    assert response.status_code == 422
    page = response.content.decode()
    assert "请填写事件标题。" in page
    assert 'value="东湖路1号楼东侧"' in page and 'value="39.905"' in page and 'value="116.405"' in page
    assert "楼道里有燃气味</textarea>" in page
    assert '<option value="gas" selected>' in page and '<option value="2" selected>' in page
    assert not Emergency.objects.exists()


def test_a_report_on_the_board_starts_at_level_four_and_ignores_coordinates_it_cannot_read(street, login):
    client = login(street.users.dispatcher)
    assert '<option value="4" selected>' in client.get("/emergency/").content.decode()
    response = client.post("/emergency/", {"title": "路灯倒伏", "kind": "other", "lat": "北纬39度", "lng": ""})
    assert response.status_code == 302
    emergency = Emergency.objects.get()
    assert (emergency.level, emergency.lat, emergency.lng) == ("4", None, None)


@pytest.fixture
def sandbags(street):
    depot = Depot.objects.create(name="街道应急物资库", community=street.communities[0])
    return Stock.objects.create(depot=depot, item="沙袋", unit_label="袋", quantity=100, required=200)


def test_a_quantity_in_full_width_digits_is_taken_and_words_are_refused(street, login, sandbags):
    client = login(street.users.handler)
    client.post("/emergency/supplies/", {"stock": sandbags.pk, "kind": "out", "quantity": "３０", "note": "东湖路"})
    sandbags.refresh_from_db()
    assert sandbags.quantity == 70
    response = client.post(
        "/emergency/supplies/", {"stock": sandbags.pk, "kind": "out", "quantity": "三十袋"}, follow=True
    )
    assert "数量应为 1 到 1000000 之间的整数。" in response.content.decode()
    sandbags.refresh_from_db()
    assert sandbags.quantity == 70 and Movement.objects.count() == 1


def test_a_transfer_on_the_supplies_page_moves_stock_to_the_chosen_depot(street, login, sandbags):
    other = Depot.objects.create(name="东湖社区物资点", community=street.communities[0])
    client = login(street.users.handler)
    client.post(
        "/emergency/supplies/", {"stock": sandbags.pk, "kind": "transfer", "quantity": "20", "to_depot": other.pk}
    )
    sandbags.refresh_from_db()
    assert sandbags.quantity == 80 and other.stocks.get(item="沙袋").quantity == 20


def test_the_units_chosen_on_a_step_take_part_and_empty_choices_are_ignored(street, login):
    u = street.users
    emergency = services.report_emergency(u.dispatcher, title="东湖路积水", kind="flood", lat=39.905, lng=116.405)
    services.transition(u.dispatcher, number=emergency.number, action="dispatch")
    services.transition(u.handler, number=emergency.number, action="arrive")
    client = login(u.dispatcher)
    client.post(f"/emergency/{emergency.number}/act/", {"action": "engage", "unit": ["ZHZF", "", "GGFW"]})
    emergency.refresh_from_db()
    assert emergency.status == "engaged"
    assert set(emergency.units.values_list("code", flat=True)) == {"ZHZF", "GGFW"}


def test_a_step_naming_an_unknown_unit_says_so_and_changes_nothing(street, login):
    u = street.users
    emergency = services.report_emergency(u.dispatcher, title="东湖路积水", kind="flood", lat=39.905, lng=116.405)
    services.transition(u.dispatcher, number=emergency.number, action="dispatch")
    services.transition(u.handler, number=emergency.number, action="arrive")
    response = login(u.dispatcher).post(
        f"/emergency/{emergency.number}/act/", {"action": "engage", "unit": ["NOSUCH"]}, follow=True
    )
    assert "单位代码“NOSUCH”不存在。" in response.content.decode()
    emergency.refresh_from_db()
    assert emergency.status == "arrived" and not emergency.units.exists()
