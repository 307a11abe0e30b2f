"""Messages (消息): ``notify`` writes one message per recipient, a person reads their own and
their unit's messages on the notifications page, follows 查看 to the page a message is about,
and marks them read; nobody marks anyone else's."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.messaging import selectors, services
from jiedao.messaging.models import Notification
from jiedao.messaging.services import notify

pytestmark = pytest.mark.django_db


def test_notifications_count_and_mark_read(street, login, make_case, in_chinese):
    make_case()  # dispatch notifies the committee
    client = login(street.users.handler_committee)
    page = client.get(reverse("messaging:notifications"))
    items = page.context["items"]
    assert len(items) == 1 and "已派至本单位" in page.content.decode()
    assert page.context["unread_count"] == 1
    client.post(reverse("messaging:notifications"), {"ids": [items[0].pk]})
    assert Notification.objects.get().read_at is not None
    assert client.get(reverse("messaging:notifications")).context["unread_count"] == 0
    # Someone else's messages cannot be marked.
    other = Notification.objects.create(unit=street.units.housing, kind="x", message="别的单位")
    client.post(reverse("messaging:notifications"), {"ids": [other.pk]})
    other.refresh_from_db()
    assert other.read_at is None


def test_the_page_stays_at_its_address(street, login):
    assert reverse("messaging:notifications") == "/notifications/"


def test_a_message_about_a_case_leads_to_the_case_page(street, login, make_case):
    case = make_case()
    notify(unit=street.units.committee1, kind="notice", message="请注意防汛")  # about no page
    page = login(street.users.handler_committee).get("/notifications/").content.decode()
    assert f'<a href="/cases/{case.number}/">查看</a>' in page
    assert page.count(">查看</a>") == 1
    assert "请注意防汛" in page


def test_notify_writes_one_message_per_recipient(street):
    u = street.users
    at = timezone.now() - dt.timedelta(hours=2)
    rows = notify(
        kind="participation",
        message="议题已被采纳。" * 60,
        user=u.resident,
        unit=street.units.housing,
        users=[u.grid, u.leader.pk],
        link="/participation/proposals/1/",
        at=at,
    )
    assert all(row.pk for row in rows)
    assert [(r.user_id, r.unit_id) for r in Notification.objects.order_by("id")] == [
        (u.resident.pk, None),
        (None, street.units.housing.pk),
        (u.grid.pk, None),
        (u.leader.pk, None),
    ]
    assert {(r.kind, len(r.message), r.link, r.created_at) for r in Notification.objects.all()} == {
        ("participation", 300, "/participation/proposals/1/", at)
    }


def test_notify_without_a_recipient_tells_nobody(street):
    assert notify(kind="participation", message="没有人") == []
    assert notify(kind="participation", message="没有人", users=[]) == []
    assert not Notification.objects.exists()


def test_a_person_sees_their_own_and_their_units_messages_only(street):
    u = street.users
    notify(user=u.handler_committee, kind="x", message="给本人")
    notify(unit=street.units.committee1, kind="x", message="给本单位")
    notify(unit=street.units.housing, kind="x", message="给别的单位")
    notify(user=u.resident, kind="x", message="给居民")
    mine = {n.message for n in selectors.notifications_for(u.handler_committee)}
    assert mine == {"给本人", "给本单位"}
    assert selectors.unread_notification_count(u.handler_committee) == 2
    assert {n.message for n in selectors.notifications_for(u.resident)} == {"给居民"}


def test_read_messages_leave_the_unread_list_but_stay_in_all(street, login):
    u = street.users
    (first,) = notify(user=u.resident, kind="x", message="第一条")
    (second,) = notify(user=u.resident, kind="x", message="第二条")
    services.mark_read(u.resident, ids=[first.pk])
    assert [n.pk for n in selectors.notifications_for(u.resident)] == [second.pk]
    assert {n.pk for n in selectors.notifications_for(u.resident, unread_only=False)} == {first.pk, second.pk}
    page = login(u.resident).get("/notifications/?all=1")
    assert {n.pk for n in page.context["items"]} == {first.pk, second.pk}


def test_marking_with_an_id_that_is_not_a_number_is_refused(street, login):
    u = street.users
    (row,) = notify(user=u.resident, kind="x", message="一条")
    with pytest.raises(ValidationFailed) as refused:
        services.mark_read(u.resident, ids=["abc"])
    assert refused.value.errors[0]["field"] == "ids"
    response = login(u.resident).post("/notifications/", {"ids": ["abc"]}, follow=True)
    assert response.status_code == 200 and "消息编号无效" in response.content.decode()
    row.refresh_from_db()
    assert row.read_at is None


def test_signed_out_nobody_marks_messages(street):
    (row,) = notify(user=street.users.resident, kind="x", message="一条")
    with pytest.raises(NotAllowed):
        services.mark_read(AnonymousUser(), ids=[row.pk])
    row.refresh_from_db()
    assert row.read_at is None
