"""Who may open which page: the right roles get the page, others a 403 or the sign-in page."""

import pytest
from django.urls import reverse

STAFF_PAGES = {
    "cases:intake": {"operator", "dispatcher", "admin", "leader"},
    "cases:grid_report": {"grid"},
    "cases:dispatch": {"dispatcher", "leader", "admin"},
    "cases:workbench": {"handler"},
    "cases:overview": {"leader", "admin"},
}
ROLE_USERS = ["admin", "operator", "dispatcher", "handler", "grid", "leader", "resident"]


@pytest.mark.parametrize("page", sorted(STAFF_PAGES))
@pytest.mark.parametrize("role", ROLE_USERS)
def test_staff_pages_open_only_for_their_roles(street, login, page, role):
    client = login(getattr(street.users, role))
    response = client.get(reverse(page))
    if role in STAFF_PAGES[page]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "无权访问" in response.content.decode()


@pytest.mark.parametrize("page", [*sorted(STAFF_PAGES), "messaging:notifications"])
def test_signed_out_visitors_are_sent_to_sign_in(client, street, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_portal_and_tracking_are_open_to_everyone(client, street):
    assert client.get(reverse("web:portal")).status_code == 200
    assert client.get(reverse("web:track")).status_code == 200
    home = client.get("/")
    assert home.status_code == 200
    assert "我要反映问题" in home.content.decode()


@pytest.mark.parametrize(
    "role, target",
    [
        ("resident", "web:portal"),
        ("handler", "cases:workbench"),
        ("dispatcher", "cases:dispatch"),
        ("leader", "cases:overview"),
        ("operator", "cases:intake"),
        ("grid", "geo:my_grid"),
    ],
)
def test_home_sends_each_role_to_its_main_page(street, login, role, target):
    response = login(getattr(street.users, role)).get("/")
    assert response.status_code == 302 and response["Location"] == reverse(target)


def test_navigation_follows_the_roles(street, login):
    page = login(street.users.handler).get(reverse("cases:workbench")).content.decode()
    assert reverse("cases:workbench") in page
    assert reverse("cases:dispatch") not in page
    page = login(street.users.leader).get(reverse("cases:overview")).content.decode()
    assert reverse("cases:overview") in page and reverse("cases:dispatch") in page
    assert reverse("cases:workbench") not in page


def test_handler_never_sees_another_units_case(street, login, make_case):
    case = make_case()  # routed to the 东湖社区居委会
    assert case.unit == street.units.committee1
    assert login(street.users.handler_committee).get(reverse("cases:case", args=[case.number])).status_code == 200
    assert login(street.users.handler).get(reverse("cases:case", args=[case.number])).status_code == 404
    listing = login(street.users.handler).get(reverse("cases:workbench")).content.decode()
    assert case.number not in listing


def test_handler_cannot_act_on_another_units_case(street, login, make_case):
    case = make_case()
    response = login(street.users.handler).post(reverse("cases:action", args=[case.number, "respond"]), {})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == "dispatched"


def test_resident_sees_only_own_cases(street, login, make_case):
    mine = make_case(description="我家门口路灯坏了")
    theirs = make_case(description="别人家的噪音问题", reporter=street.users.resident_other)
    client = login(street.users.resident)
    portal = client.get(reverse("web:portal")).content.decode()
    assert mine.number in portal and theirs.number not in portal
    # Their own case opens on the tracking page (never the staff page).
    own = client.get(reverse("cases:case", args=[mine.number]), follow=True)
    assert own.status_code == 200 and own.context["case"] == mine and own.context["own"]
    assert client.get(reverse("cases:case", args=[theirs.number])).status_code == 404
