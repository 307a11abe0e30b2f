"""Who sees which persons (权限分级), masking by role in pages, API and Excel export, and
the access log written for every unmasked view."""

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from jiedao.common.errors import NotAllowed
from jiedao.common.masking import mask_id_number, mask_phone
from jiedao.common.models import AccessLog
from jiedao.org import services as org_services
from jiedao.registry import selectors
from tests.factories import PASSWORD

DONGHU = {"张桂兰", "李建国", "李小明", "王秀英"}
ALL = DONGHU | {"赵强"}


@pytest.mark.parametrize(
    "role, expected",
    [
        ("admin", ALL),
        ("leader", ALL),
        ("dispatcher", ALL),
        ("handler", ALL),  # a street section (综合执法队) works street-wide
        ("handler_committee", DONGHU),  # 东湖社区居委会: own community
        ("grid", DONGHU),  # grids 1 and 2 of 东湖社区
        ("grid_other", {"赵强"}),  # grid 1 of 西园社区
    ],
)
def test_each_role_sees_its_own_part_of_the_street(registry, street, role, expected):
    persons, _cursor = selectors.person_list(getattr(street.users, role))
    assert {p.name for p in persons} == expected


@pytest.mark.parametrize("role", ["resident", "operator", "handler_housing"])
def test_residents_and_others_see_nothing(registry, street, login, role):
    user = getattr(street.users, role)
    with pytest.raises(NotAllowed):
        selectors.person_list(user)
    assert login(user).get(reverse("registry:persons")).status_code == 403


def test_a_grid_worker_cannot_open_a_person_of_another_grid(registry, street, login):
    zhao = registry.people["赵强"]
    client = login(street.users.grid)
    assert client.get(reverse("registry:person", args=[zhao.pk])).status_code == 404
    assert client.post(reverse("registry:person_reveal", args=[zhao.pk])).status_code == 404
    assert not AccessLog.objects.exists()


def test_pages_mask_identity_numbers_and_phones(registry, street, login):
    zhang = registry.people["张桂兰"]
    for role in ("leader", "admin", "grid", "handler_committee"):
        client = login(getattr(street.users, role))
        for url in (
            reverse("registry:persons"),
            reverse("registry:person", args=[zhang.pk]),
            reverse("registry:household", args=[zhang.household_id]),
            reverse("registry:assistance"),
        ):
            page = client.get(url).content.decode()
            assert zhang.id_number not in page and zhang.phone not in page, (role, url)
            assert mask_id_number(zhang.id_number) in page, (role, url)
        assert mask_phone(zhang.phone) in client.get(reverse("registry:person", args=[zhang.pk])).content.decode()
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role", ["admin", "grid"])
def test_show_in_full_is_allowed_for_admin_and_own_grid_worker_and_is_logged(registry, street, login, role):
    zhang = registry.people["张桂兰"]
    user = getattr(street.users, role)
    client = login(user)
    page = client.get(reverse("registry:person", args=[zhang.pk])).content.decode()
    assert "显示完整" in page
    response = client.post(reverse("registry:person_reveal", args=[zhang.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert zhang.id_number in page and zhang.phone in page
    log = AccessLog.objects.get()
    assert (log.user, log.object_type, log.object_id) == (user, "registry.person", str(zhang.pk))
    assert set(log.fields.split(",")) == {"id_number", "phone"}


@pytest.mark.parametrize("role", ["leader", "dispatcher", "handler_committee"])
def test_others_may_not_show_in_full(registry, street, login, role):
    zhang = registry.people["张桂兰"]
    client = login(getattr(street.users, role))
    assert "显示完整" not in client.get(reverse("registry:person", args=[zhang.pk])).content.decode()
    response = client.post(reverse("registry:person_reveal", args=[zhang.pk]))
    assert response.status_code == 403
    assert zhang.id_number not in response.content.decode()
    assert not AccessLog.objects.exists()


def _api(user):
    plain, _token = org_services.create_token(user.username, password=PASSWORD)
    client = Client()
    return lambda method, path, body=None, **params: (
        client.get("/api/v1" + path, params, HTTP_AUTHORIZATION=f"Bearer {plain}")
        if method == "get"
        else client.post(
            "/api/v1" + path,
            json.dumps(body or {}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {plain}",
        )
    )


def test_the_api_masks_and_unmasks_only_for_those_allowed(registry, street):
    zhang = registry.people["张桂兰"]
    leader = _api(street.users.leader)
    listing = leader("get", "/registry/persons", tag="alone_elderly").json()
    assert [p["name"] for p in listing["items"]] == ["张桂兰"]
    item = listing["items"][0]
    assert item["id_number"] == mask_id_number(zhang.id_number) and item["phone"] == mask_phone(zhang.phone)
    assert item["masked"] is True and item["tags"] == ["独居老人", "慢性病"]
    detail = leader("get", f"/registry/persons/{zhang.pk}").json()
    assert detail["id_number"] == mask_id_number(zhang.id_number)
    assert leader("get", f"/registry/persons/{zhang.pk}", unmask="true").status_code == 403
    assert not AccessLog.objects.exists()

    grid = _api(street.users.grid)
    full = grid("get", f"/registry/persons/{zhang.pk}", unmask="true").json()
    assert full["id_number"] == zhang.id_number and full["phone"] == zhang.phone and full["masked"] is False
    assert AccessLog.objects.get().user == street.users.grid
    # Another grid's worker does not even find the person.
    assert _api(street.users.grid_other)("get", f"/registry/persons/{zhang.pk}").status_code == 404
    assert _api(street.users.resident)("get", "/registry/persons").status_code == 403


def test_search_by_a_full_identity_number_finds_the_person_without_showing_it(registry, street):
    zhang = registry.people["张桂兰"]
    found = _api(street.users.admin)("get", "/registry/persons", q=zhang.id_number).json()["items"]
    assert [p["name"] for p in found] == ["张桂兰"]
    assert found[0]["id_number"] != zhang.id_number


def _sheet_text(content):
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)


def test_the_excel_export_is_masked_and_full_only_for_those_allowed_and_logged(registry, street, login):
    zhang, wang = registry.people["张桂兰"], registry.people["王秀英"]
    leader = login(street.users.leader)
    text = _sheet_text(leader.get(reverse("registry:assistance_export")).content)
    assert "张桂兰" in text and mask_id_number(zhang.id_number) in text
    assert zhang.id_number not in text and zhang.phone not in text
    # A leader asking for the full export still gets it masked, and nothing is logged.
    text = _sheet_text(leader.post(reverse("registry:assistance_export"), {"full": "1"}).content)
    assert zhang.id_number not in text
    assert not AccessLog.objects.exists()

    grid = login(street.users.grid)
    text = _sheet_text(grid.post(reverse("registry:assistance_export"), {"full": "1"}).content)
    assert zhang.id_number in text and wang.phone in text
    logged = set(AccessLog.objects.values_list("object_id", flat=True))
    assert logged == {str(p.pk) for p in (zhang, wang, registry.people["李建国"])}


def test_the_assistance_page_shows_in_full_on_request_only(registry, street, login):
    zhang = registry.people["张桂兰"]
    client = login(street.users.admin)
    assert zhang.id_number not in client.get(reverse("registry:assistance")).content.decode()
    page = client.post(reverse("registry:assistance"), {"tag": "alone_elderly"}).content.decode()
    assert zhang.id_number in page
    assert list(AccessLog.objects.values_list("object_id", flat=True)) == [str(zhang.pk)]
