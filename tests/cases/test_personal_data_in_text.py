"""What a reporter typed stays as typed, but a reader who sees the reporter masked (the rule of
``may_see_reporter``) also reads the reporter's name in the timeline masked, and the phones and
identity numbers in the description, notes, lists, searches and exports masked."""

import csv
import io

from django.test import Client
from django.urls import reverse

from jiedao.cases import services
from jiedao.org import services as org_services
from tests.factories import PASSWORD

DESCRIPTION = "楼道灯坏了，请联系我 138 1234 5678 或 １３９００１３９０００，身份证110101 19900307 8910"
MASKED = "楼道灯坏了，请联系我 138****5678 或 139****9000，身份证110***********8910"


def api(user):
    plain, _token = org_services.create_token(user.username, password=PASSWORD)
    client = Client()
    return lambda path, **params: client.get("/api/v1" + path, params, HTTP_AUTHORIZATION=f"Bearer {plain}")


def page(user, case):
    client = Client()
    client.force_login(user)
    return client.get(reverse("cases:case", args=[case.number])).content.decode()


def test_the_timeline_masks_the_reporters_name_for_those_who_see_the_reporter_masked(street, make_case):
    """The tester's finding: the case page's 流转记录 named the resident who reported in full
    to a leader who saw 王*妈 everywhere else."""
    case = make_case(description="楼道灯不亮", category="010102")
    assert case.reporter == street.users.resident and street.users.resident.display_name == "王大妈"
    leader_page = page(street.users.leader, case)
    assert "王大妈" not in leader_page and "王*妈" in leader_page
    events = api(street.users.leader)(f"/cases/{case.number}/events").json()
    assert events[0]["action"] == "create" and events[0]["actor"] == "王*妈"
    assert "王大妈" not in str(events)

    # Those who see the reporter in full see the name: the dispatcher, the unit holding the case.
    assert "王大妈" in page(street.users.dispatcher, case)
    assert api(street.users.handler)(f"/cases/{case.number}/events").json()[0]["actor"] == "王大妈"
    # Staff names stay readable for everybody.
    assert any(e["actor"] == "dispatcher" for e in events)


def test_phones_in_the_timeline_notes_are_masked_for_those_who_see_the_reporter_masked(street, make_case):
    case = make_case(description="楼道灯不亮", category="010102")
    services.respond(street.users.handler, number=case.number, note="已电话联系诉求人 138-0013-8000，明日上门")
    leader = api(street.users.leader)(f"/cases/{case.number}/events").json()
    assert leader[-1]["note"] == "已电话联系诉求人 138****8000，明日上门"
    assert "138-0013-8000" not in page(street.users.leader, case)
    handler = api(street.users.handler)(f"/cases/{case.number}/events").json()
    assert handler[-1]["note"] == "已电话联系诉求人 138-0013-8000，明日上门"


def test_the_description_is_masked_for_a_leader_and_kept_for_the_dispatcher(street, make_case):
    case = make_case(description=DESCRIPTION, category="010102")
    assert case.description == DESCRIPTION  # stored as typed: nothing is lost
    leader = api(street.users.leader)
    assert leader(f"/cases/{case.number}").json()["description"] == MASKED
    assert MASKED in page(street.users.leader, case) and "1234 5678" not in page(street.users.leader, case)
    assert api(street.users.dispatcher)(f"/cases/{case.number}").json()["description"] == DESCRIPTION
    assert "138 1234 5678" in page(street.users.dispatcher, case)
    # Lists mask for everybody.
    items = api(street.users.dispatcher)("/cases").json()["items"]
    assert [i["description"] for i in items if i["number"] == case.number] == [MASKED]


def test_a_search_with_digits_does_not_confirm_the_hidden_digits(street, make_case):
    """Searching descriptions for 1381234 would tell a leader, a digit at a time, the middle of
    a phone shown to them as 138****5678."""
    case = make_case(description=DESCRIPTION, category="010102")
    numbers = lambda user, q: [i["number"] for i in api(user)("/cases", q=q).json()["items"]]
    assert numbers(street.users.leader, "138 1234") == []
    assert numbers(street.users.leader, "8910") == [case.number]  # shown anyway: 110***********8910
    assert numbers(street.users.leader, "楼道灯") == [case.number]
    assert numbers(street.users.leader, case.number[-5:]) == [case.number]
    assert numbers(street.users.dispatcher, "138 1234") == [case.number]
    assert numbers(street.users.handler, "138 1234") == [case.number]  # their unit holds it


def test_the_export_masks_the_description_where_the_reporter_is_masked(street, make_case):
    case = make_case(description=DESCRIPTION, category="010102")
    rows = {}
    for user in (street.users.leader, street.users.dispatcher):
        client = Client()
        client.force_login(user)
        text = client.get("/exports/cases/", {"download": "csv"}).content.decode("utf-8")[1:]
        rows[user.username] = {r["工单编号"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["leader"][case.number]["诉求内容"] == MASKED
    assert rows["dispatcher"][case.number]["诉求内容"] == DESCRIPTION
