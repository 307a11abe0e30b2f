"""告知诉求人: before the callback, the operator or the dispatcher records that the reporter was
told the result (how and what); the step appears on the case's timeline and on the resident's
tracking page, and the case still waits for the rating."""

import pytest
from django.urls import reverse

from jiedao.cases import services
from jiedao.cases.models import Case, CaseEvent
from jiedao.common.errors import InvalidTransition, NotAllowed
from tests.cases.lifecycle import drive, snapshot

pytestmark = pytest.mark.django_db


def post_inform(client, case, note):
    return client.post(reverse("cases:action", args=[case.number, "inform"]), {"note": note})


def test_the_operator_records_that_the_reporter_was_told(street, login):
    case = drive(street, "rating")
    client = login(street.users.operator)
    page = client.get(reverse("cases:case", args=[case.number])).content.decode()
    assert "告知诉求人" in page
    response = post_inform(client, case, "已电话告知王大妈垃圾已清运，下周起每日清运两次")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已告知诉求人" in page
    assert "已电话告知王大妈垃圾已清运" in page
    event = CaseEvent.objects.get(case=case, action="inform")
    assert event.actor == street.users.operator and event.from_status == event.to_status == "rating"
    assert Case.objects.get(pk=case.pk).status == "rating"

    track = login(street.users.resident).get(reverse("web:track"), {"number": case.number}).content.decode()
    assert "已告知办理结果" in track


def test_without_saying_how_and_what_nothing_is_recorded(street, login):
    case = drive(street, "rating")
    before = snapshot(case.number)
    response = post_inform(login(street.users.dispatcher), case, "   ")
    assert response.status_code == 422
    assert "请写明告知诉求人的方式和内容" in response.content.decode()
    assert snapshot(case.number) == before


def test_only_a_case_waiting_for_its_callback_and_only_the_desk(street, login):
    working = drive(street, "in_progress")
    with pytest.raises(InvalidTransition):
        services.inform(street.users.operator, number=working.number, note="已告知")
    page = login(street.users.operator).get(reverse("cases:case", args=[working.number])).content.decode()
    assert 'data-action="inform"' not in page
    waiting = drive(street, "rating")
    for user in (street.users.handler_committee, street.users.leader, street.users.resident):
        with pytest.raises(NotAllowed):
            services.inform(user, number=waiting.number, note="已告知")
    assert not CaseEvent.objects.filter(action="inform").exists()
