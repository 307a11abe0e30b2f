"""Masking by role: the shapes of masked values, and who sees a case's reporter in full
on the case page and in the API (each such view logged), who sees it masked (not logged)."""

import pytest
from django.urls import reverse

from jiedao.cases import services
from jiedao.common.masking import mask_address, mask_id_number, mask_name, mask_phone
from jiedao.common.models import AccessLog
from jiedao.org import services as org_services
from tests.factories import PASSWORD

REPORTER = {"reporter_name": "张三丰", "reporter_phone": "13812345678", "address": "东湖小区3号楼2单元501室"}
MASKED = {"reporter_name": "张*丰", "reporter_phone": "138****5678", "address": "东湖小区3号楼****"}


@pytest.mark.parametrize(
    "value, masked",
    [
        ("11010519491231002X", "110***********002X"),
        ("110105491231002", "110********1002"),  # the old 15-digit numbers
        ("", ""),
    ],
)
def test_identity_numbers_keep_three_and_four(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    "value, masked",
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("", ""),
    ],
)
def test_phones_keep_three_and_four(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    "value, masked",
    [
        ("张三丰", "张*丰"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("王", "*"),
    ],
)
def test_names_keep_the_family_name(value, masked):
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    "value, masked",
    [
        ("东湖小区3号楼2单元501室", "东湖小区3号楼****"),
        ("幸福里5栋1202", "幸福里5栋****"),
        ("望京花园西区南门", "望京花园****"),
        ("朝阳路12号", "朝阳路****"),
    ],
)
def test_addresses_keep_the_compound_and_building_but_hide_the_room(value, masked):
    assert mask_address(value) == masked


# --- by role, on the case page and in the API ------------------------------------------


@pytest.fixture
def case(street):
    """Held by 综合执法队 (``handler``), in the first grid (``grid``)."""
    case, _ = services.submit_case(
        street.users.operator,
        channel="phone",
        description="楼道灯不亮",
        lat=39.905,
        lng=116.405,
        category_code="010102",
        **REPORTER,
    )
    case = services.dispatch(street.users.dispatcher, number=case.number, unit_code="ZHZF")
    AccessLog.objects.all().delete()
    return case


def page_of(client, user, case):
    assert client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("cases:case", args=[case.number])).content.decode()


def api_of(client, user, case):
    token, _ = org_services.create_token(user.username, password=PASSWORD)
    return client.get(f"/api/v1/cases/{case.number}", HTTP_AUTHORIZATION=f"Bearer {token}").json()


UNMASKED_ROLES = ["operator", "dispatcher", "admin", "handler", "grid"]


@pytest.mark.parametrize("who", UNMASKED_ROLES)
def test_roles_that_need_the_contact_see_it_and_each_view_is_logged(street, case, client, who):
    user = getattr(street.users, who)
    page = page_of(client, user, case)
    assert REPORTER["reporter_phone"] in page and REPORTER["address"] in page and REPORTER["reporter_name"] in page
    assert AccessLog.objects.filter(user=user, object_id=str(case.pk), purpose="case page").count() == 1
    body = api_of(client, user, case)
    assert {k: body[k] for k in REPORTER} == REPORTER
    assert AccessLog.objects.filter(user=user, object_id=str(case.pk), purpose="api").count() == 1


@pytest.mark.parametrize("who", ["leader", "handler_housing"])
def test_other_roles_see_the_contact_masked_and_nothing_is_logged(street, case, client, who):
    user = getattr(street.users, who)
    if who == "handler_housing":  # a unit summoned to help sees the case, not the contact
        services.blow_whistle(
            street.users.dispatcher, number=case.number, unit_codes=["ZJ"], report_hours=24, reason="会商"
        )
        AccessLog.objects.all().delete()
    page = page_of(client, user, case)
    for field in REPORTER:
        assert REPORTER[field] not in page
        assert MASKED[field] in page
    body = api_of(client, user, case)
    assert {k: body[k] for k in REPORTER} == MASKED and body["reporter_masked"] is True
    assert not AccessLog.objects.exists()


def test_a_grid_worker_of_another_grid_does_not_see_the_case(street, case, client):
    assert client.login(username=street.users.grid_other.username, password=PASSWORD)
    assert client.get(reverse("cases:case", args=[case.number])).status_code == 404
    assert not AccessLog.objects.exists()


def test_the_reporter_sees_their_own_contact(street, client):
    case, _ = services.submit_case(
        street.users.resident, channel="portal", description="楼道堆物", address="西园小区9号楼1单元302"
    )
    AccessLog.objects.all().delete()
    # The staff page sends the reporter to their tracking page, which shows what they left.
    assert client.login(username=street.users.resident.username, password=PASSWORD)
    page = client.get(reverse("cases:case", args=[case.number]), follow=True).content.decode()
    assert "13800138000" in page and "西园小区9号楼1单元302" in page
    assert AccessLog.objects.filter(user=street.users.resident).count() == 1
