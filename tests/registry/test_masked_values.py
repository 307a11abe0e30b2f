"""No field beside a masked identity number gives it back, and a complete number cannot be
used to confirm a guess: the birth date is shown as an age to those who see the number masked,
and look-ups by a complete identity number or phone are only for those who may unmask —
limited per user and per number, and each written to the access log without the number."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jiedao.common.masking import mask_id_number
from jiedao.common.models import AccessLog
from jiedao.org import services as org_services
from jiedao.registry import selectors, services
from jiedao.registry.models import MergeConflict
from tests.factories import PASSWORD

MASKED_ROLES = ["leader", "dispatcher", "handler", "handler_committee"]


def api(user):
    plain, _token = org_services.create_token(user.username, password=PASSWORD)
    client = Client()
    return lambda path, **params: client.get("/api/v1" + path, params, HTTP_AUTHORIZATION=f"Bearer {plain}")


def birth_text(person):
    return person.birth_date.isoformat()


# --- the birth date beside a masked identity number ---------------------------------------------


@pytest.mark.parametrize("role", [*MASKED_ROLES, "admin", "grid"])
def test_a_masked_identity_number_comes_with_the_age_not_the_birth_date(registry, street, role):
    zhang = registry.people["张桂兰"]
    call = api(getattr(street.users, role))
    listed = call("/registry/persons", tag="alone_elderly").json()["items"][0]
    detail = call(f"/registry/persons/{zhang.pk}").json()
    for shown in (listed, detail):
        assert shown["id_number"] == mask_id_number(zhang.id_number) and shown["masked"] is True
        assert shown["birth_date"] is None
        assert shown["age"] == selectors.age_on(zhang.birth_date, timezone.localdate())
        assert shown["gender"] == "female"
    assert birth_text(zhang) not in json.dumps(detail)


def test_the_pages_show_the_age_to_those_who_see_the_number_masked(registry, street, login):
    zhang = registry.people["张桂兰"]
    digits = zhang.birth_date.strftime("%Y%m%d")
    for role in [*MASKED_ROLES, "admin", "grid"]:
        client = login(getattr(street.users, role))
        for url in (
            reverse("registry:persons"),
            reverse("registry:person", args=[zhang.pk]),
            reverse("registry:household", args=[zhang.household_id]),
            reverse("registry:assistance"),
        ):
            page = client.get(url).content.decode()
            assert birth_text(zhang) not in page and digits not in page, (role, url)
        page = client.get(reverse("registry:person", args=[zhang.pk])).content.decode()
        assert 'data-field="age"' in page and 'data-field="birth_date"' not in page


@pytest.mark.parametrize("role", ["admin", "grid"])
def test_those_who_may_unmask_see_the_birth_date_in_the_logged_full_view(registry, street, role, login):
    zhang = registry.people["张桂兰"]
    user = getattr(street.users, role)
    page = login(user).post(reverse("registry:person_reveal", args=[zhang.pk])).content.decode()
    assert zhang.id_number in page and birth_text(zhang) in page
    full = api(user)(f"/registry/persons/{zhang.pk}", unmask="true").json()
    assert full["birth_date"] == birth_text(zhang) and full["id_number"] == zhang.id_number
    assert AccessLog.objects.filter(user=user, object_id=str(zhang.pk)).count() == 2


def test_a_birth_date_conflict_is_an_age_for_community_staff_and_a_logged_date_for_the_grid_worker(
    registry, street, login
):
    zhang = registry.people["张桂兰"]
    MergeConflict.objects.create(
        person=zhang,
        field="birth_date",
        current_value=birth_text(zhang),
        incoming_value="1941-02-03",
        source="社区走访",
    )

    page = login(street.users.handler_committee).get(reverse("registry:conflicts")).content.decode()
    assert "1941-02-03" not in page and birth_text(zhang) not in page
    assert f"{selectors.age_on(zhang.birth_date, timezone.localdate())}岁" in page
    assert not AccessLog.objects.exists()

    page = login(street.users.grid).get(reverse("registry:conflicts")).content.decode()
    assert "1941-02-03" in page and birth_text(zhang) in page
    log = AccessLog.objects.get()
    assert (log.user, log.object_id, log.fields) == (street.users.grid, str(zhang.pk), "birth_date")


def test_a_visit_note_with_a_phone_is_masked_for_those_who_see_the_person_masked(registry, street, login):
    zhang = registry.people["张桂兰"]
    services.record_visit(street.users.grid, person_id=zhang.pk, kind="phone", note="女儿电话 139 0013 9000，已联系")
    detail = api(street.users.leader)(f"/registry/persons/{zhang.pk}").json()
    assert detail["visits"][0]["note"] == "女儿电话 139****9000，已联系"
    page = login(street.users.leader).get(reverse("registry:person", args=[zhang.pk])).content.decode()
    assert "139 0013 9000" not in page and "139****9000" in page
    full = api(street.users.grid)(f"/registry/persons/{zhang.pk}", unmask="true").json()
    assert full["visits"][0]["note"] == "女儿电话 139 0013 9000，已联系"


# --- look-ups by a complete number ------------------------------------------------------------


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_masked_role_cannot_confirm_a_guessed_identity_number(registry, street, role):
    """The tester's attack: with 110***********8910 and the birth date, ~91 candidates, each
    tried as ``q`` until the list answers with the person."""
    zhang = registry.people["张桂兰"]
    call = api(getattr(street.users, role))
    right = call("/registry/persons", q=zhang.id_number)
    wrong = call("/registry/persons", q=zhang.id_number[:-4] + "0000")
    spaced = call("/registry/persons", q=f"{zhang.id_number[:6]} {zhang.id_number[6:14]} {zhang.id_number[14:]}")
    phone = call("/registry/persons", q="138-1234-5678")
    for answer in (right, wrong, spaced, phone):
        assert answer.status_code == 403
        assert answer.json() == right.json()
    assert "只有系统管理员和本网格的网格员" in right.json()["errors"][0]["message"]
    assert not AccessLog.objects.exists()


def test_the_person_list_page_refuses_a_search_by_number_plainly(registry, street, login):
    zhang = registry.people["张桂兰"]
    response = login(street.users.leader).get(reverse("registry:persons"), {"q": zhang.phone})
    assert response.status_code == 403
    page = response.content.decode()
    assert "请按姓名查找" in page and "张桂兰" not in page.split("</form>", 1)[1].split("数据鲜活度")[0]
    # A name search still works for them.
    assert "张桂兰" in login(street.users.leader).get(reverse("registry:persons"), {"q": "桂兰"}).content.decode()


def test_an_allowed_look_up_is_logged_with_the_kind_the_count_and_the_ids_but_not_the_number(registry, street):
    zhang = registry.people["张桂兰"]
    found = api(street.users.admin)(
        "/registry/persons", q=f"+86 {zhang.phone[:3]} {zhang.phone[3:7]} {zhang.phone[7:]}"
    ).json()["items"]
    assert [p["name"] for p in found] == ["张桂兰"] and found[0]["phone"] != zhang.phone
    log = AccessLog.objects.get()
    assert (log.user, log.object_type, log.object_id, log.fields, log.purpose) == (
        street.users.admin,
        "registry.person",
        str(zhang.pk),
        "phone",
        "lookup:1",
    )
    assert not api(street.users.admin)("/registry/persons", q="13999990000").json()["items"]
    empty = AccessLog.objects.exclude(pk=log.pk).get()
    assert (empty.object_id, empty.fields, empty.purpose) == ("", "phone", "lookup:0")
    for row in AccessLog.objects.all():
        assert zhang.phone not in f"{row.object_id} {row.fields} {row.purpose}"
    review = Client()
    review.force_login(street.users.admin)
    page = review.get(reverse("common:access_log")).content.decode()
    assert "按完整号码精确查找（找到1条）" in page and "按完整号码精确查找（找到0条）" in page
    assert "lookup:" not in page and zhang.phone not in page


def test_a_grid_worker_looks_up_only_among_the_persons_of_their_own_grids(registry, street):
    zhao = registry.people["赵强"]  # 西园社区 grid 1, not one of ``grid``'s grids
    assert api(street.users.grid)("/registry/persons", q=zhao.id_number).json()["items"] == []
    found = api(street.users.grid_other)("/registry/persons", q=zhao.id_number).json()["items"]
    assert [p["name"] for p in found] == ["赵强"]


def test_guessing_phones_is_throttled_per_user_and_every_look_up_is_logged(registry, street, settings):
    """The tester's attack: a masked phone 138****5678 leaves 10,000 candidates, tried one by one."""
    settings.JIEDAO = {**settings.JIEDAO, "REGISTRY_LOOKUP_RATE": "30/h"}
    call = api(street.users.admin)
    answers = [call("/registry/persons", q=f"138{n:04d}5678") for n in range(31)]
    assert [a.status_code for a in answers[:30]] == [200] * 30
    refused = answers[30]
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "过于频繁" in refused.json()["errors"][0]["message"]
    assert AccessLog.objects.filter(user=street.users.admin, fields="phone").count() == 30
    # The right number after the limit is refused too: the limit does not tell right from wrong.
    assert call("/registry/persons", q=registry.people["张桂兰"].phone).status_code == 429
    # A name search is not limited.
    assert call("/registry/persons", q="桂兰").status_code == 200


def test_one_number_is_throttled_whoever_asks(registry, street, settings):
    settings.JIEDAO = {**settings.JIEDAO, "REGISTRY_LOOKUP_TARGET_RATE": "10/h"}
    zhang = registry.people["张桂兰"]
    callers = [api(street.users.admin), api(street.users.grid)]
    statuses = [callers[n % 2]("/registry/persons", q=zhang.id_number).status_code for n in range(11)]
    assert statuses == [200] * 10 + [429]
    # Another number is still open to them.
    assert callers[0]("/registry/persons", q=registry.people["李建国"].id_number).status_code == 200


def test_the_page_search_by_number_is_throttled_with_a_message(registry, street, login, settings):
    settings.JIEDAO = {**settings.JIEDAO, "REGISTRY_LOOKUP_RATE": "2/h"}
    client = login(street.users.grid)
    zhang = registry.people["张桂兰"]
    first = client.get(reverse("registry:persons"), {"q": zhang.phone})
    assert first.status_code == 200 and f'data-person="{zhang.pk}"' in first.content.decode()
    client.get(reverse("registry:persons"), {"q": "13700000000"})
    refused = client.get(reverse("registry:persons"), {"q": zhang.phone})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    page = refused.content.decode()
    assert "过于频繁" in page and f'data-person="{zhang.pk}"' not in page
    assert AccessLog.objects.filter(user=street.users.grid).count() == 2
