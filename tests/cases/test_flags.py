"""舆情 / 群体事件: the dispatcher or a leader flags a case from its page (one form, the reason
required), the page shows the flag, the log records who, when and why, and ``flagged_cases``
gives what the evaluation's warning turns red on. Nobody else may flag; the resident never sees it."""

import datetime as dt

import pytest
from django.urls import reverse

from jiedao.cases import flags, services
from jiedao.cases.models import Case, CaseEvent
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.org import services as org_services
from tests.api.conftest import ApiClient
from tests.cases.lifecycle import drive, snapshot
from tests.factories import PASSWORD, WEDNESDAY

pytestmark = pytest.mark.django_db
FLAG_URL = "cases:action"


def post_flag(client, case, **data):
    return client.post(reverse(FLAG_URL, args=[case.number, "flag"]), data)


def test_the_dispatcher_flags_a_case_as_public_opinion_from_its_page(street, login):
    case = drive(street, "in_progress")
    client = login(street.users.dispatcher)
    page = client.get(reverse("cases:case", args=[case.number])).content.decode()
    assert "标记舆情/群体事件" in page
    assert 'value="opinion"' in page and 'value="mass"' in page
    # Nothing to take off yet: the form offers only the two flags.
    assert "取消标记" not in page

    response = post_flag(client, case, kind="opinion", note="居民在业主群转发，已有媒体询问")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "舆情/群体事件标记已更新" in page
    assert 'data-sensitive="opinion"' in page
    assert "居民在业主群转发，已有媒体询问" in page  # on the timeline, with the action's label
    event = CaseEvent.objects.get(case=case, action="flag")
    assert event.actor == street.users.dispatcher
    assert event.data == {"from": "", "to": "opinion"}
    assert event.from_status == event.to_status == "in_progress"
    assert Case.objects.get(pk=case.pk).sensitive == "opinion"


def test_a_flag_without_a_reason_or_with_an_unknown_kind_is_refused_and_nothing_is_written(street, login):
    case = drive(street, "dispatched")
    before = snapshot(case.number)
    client = login(street.users.leader)
    response = post_flag(client, case, kind="opinion", note="  ")
    assert response.status_code == 422
    assert "标记或取消舆情、群体事件时请写明理由" in response.content.decode()
    response = post_flag(client, case, kind="riot", note="群众聚集")
    assert response.status_code == 422
    assert "请选择“舆情”或“群体事件”" in response.content.decode()
    with pytest.raises(ValidationFailed) as refused:
        services.flag(street.users.leader, number=case.number, kind="riot", note="群众聚集")
    assert refused.value.errors[0]["field"] == "kind"
    assert snapshot(case.number) == before


@pytest.mark.parametrize("who", ["operator", "handler_committee", "grid", "resident"])
def test_only_the_dispatchers_and_leaders_may_flag(street, login, who):
    case = drive(street, "in_progress")
    user = getattr(street.users, who)
    with pytest.raises(NotAllowed):
        services.flag(user, number=case.number, kind="mass", note="聚集")
    assert post_flag(login(user), case, kind="mass", note="聚集").status_code in (403, 404)
    assert not CaseEvent.objects.filter(case=case, action="flag").exists()


def test_flag_changed_then_taken_off_and_what_the_warning_reads(street, login):
    case = drive(street, "rating")
    other = drive(street, "in_progress")
    leader = street.users.leader
    t0 = WEDNESDAY + dt.timedelta(days=1)
    services.flag(leader, number=case.number, kind="mass", note="二十余名居民到街道反映", at=t0)
    services.flag(street.users.dispatcher, number=other.number, kind="opinion", note="网上有帖子", at=t0)
    assert set(flags.flagged_cases(t0)) == {case, other}
    assert list(flags.flagged_cases(t0 + dt.timedelta(hours=1))) == []

    with pytest.raises(ValidationFailed) as again:
        services.flag(leader, number=case.number, kind="mass", note="再次标记", at=t0)
    assert "已标记为“群体事件”" in again.value.errors[0]["message"]

    client = login(leader)
    page = client.get(reverse("cases:case", args=[case.number])).content.decode()
    assert "群体事件" in page and "取消标记" in page
    response = post_flag(client, case, kind="", note="已平息，居民诉求已解决")
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).sensitive == ""
    assert set(flags.flagged_cases(t0)) == {other}
    assert "data-sensitive" not in client.get(reverse("cases:case", args=[case.number])).content.decode()
    with pytest.raises(ValidationFailed) as nothing:
        services.flag(leader, number=case.number, kind="", note="取消")
    assert "没有舆情或群体事件标记" in nothing.value.errors[0]["message"]


def test_the_resident_does_not_see_the_flag(street, login):
    case = drive(street, "in_progress")
    services.flag(street.users.dispatcher, number=case.number, kind="opinion", note="网上有帖子讨论")
    page = login(street.users.resident).get(reverse("web:track"), {"number": case.number}).content.decode()
    assert case.number in page
    assert "舆情" not in page and "网上有帖子讨论" not in page


def test_the_api_flags_too(street):
    case = drive(street, "in_progress")
    plain, _token = org_services.create_token("dispatcher", password=PASSWORD)
    api = ApiClient(plain)
    response = api.post(f"/cases/{case.number}/actions/flag", {"kind": "mass", "note": "居民聚集"})
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=case.pk).sensitive == "mass"
    response = api.post(f"/cases/{case.number}/actions/flag", {"kind": "opinion"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "note"


def test_a_closed_case_is_not_flagged(street):
    case = drive(street, "closed")
    with pytest.raises(InvalidTransition):
        services.flag(street.users.leader, number=case.number, kind="mass", note="居民聚集")
    assert Case.objects.get(pk=case.pk).sensitive == ""
