"""值班表 and 确认接警: the roster is kept on its page with errors by field; an emergency is sent
to the first on duty at once (in the app, and by e-mail when the rule is on) with a link to the
acknowledgement page; nobody acknowledging within the limit sends it to the next on the roster
and then to the leaders, each step once however often the job runs; the acknowledgement time is
recorded and measured."""

import datetime as dt

import pytest

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.emergency import selectors, services, tasks
from jiedao.emergency.models import DutyShift, EmergencyEvent
from jiedao.messaging.models import DeliveryRule, Notification, OutboxMessage
from tests.factories import make_user

from .conftest import NOW, minutes

pytestmark = pytest.mark.django_db


def shift(street, person, position=1, start=NOW - dt.timedelta(hours=2), hours=12):
    return services.add_shift(
        street.users.dispatcher,
        person_id=person.pk,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        position=position,
    )


def report(street, at=NOW, **kwargs):
    values = {"title": "东湖路燃气泄漏", "kind": "gas", "level": "3", "address": "东湖路1号", "at": at}
    values.update(kwargs)
    return services.report_emergency(street.users.dispatcher, **values)


def told(kind):
    return list(Notification.objects.filter(kind=kind).order_by("id"))


@pytest.fixture
def roster(street):
    """The handler first on duty, the grid worker second, around NOW."""
    u = street.users
    return [shift(street, u.handler, 1), shift(street, u.grid, 2)]


@pytest.fixture
def roster_now(street):
    """The same roster around the present moment, for the pages (which use the clock)."""
    u = street.users
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    return [shift(street, u.handler, 1, start=start), shift(street, u.grid, 2, start=start)]


# --- the roster page ----------------------------------------------------------------------------


def test_the_roster_page_names_each_wrong_field_and_writes_nothing(client, login, street):
    u = street.users
    shift(street, u.handler, 1, start=dt.datetime(2026, 11, 18, 0, 0, tzinfo=dt.UTC))  # 08:00–20:00 Beijing
    login(u.dispatcher)
    url = "/emergency/duty/?week=2026-11-16"

    ends_first = {"person": u.grid.pk, "starts_at": "2026-11-18T20:00", "ends_at": "2026-11-18T08:00", "position": "1"}
    response = client.post(url, ends_first)
    assert response.status_code == 422
    assert "结束时间必须晚于开始时间。" in response.content.decode()

    overlapping = {"person": u.handler.pk, "starts_at": "2026-11-18T19:00", "ends_at": "2026-11-19T08:00"}
    page = client.post(url, {**overlapping, "position": "1"}).content.decode()
    assert "同一人的班次不能重叠" in page and "2026-11-18 08:00" in page

    not_staff = {"person": u.resident.pk, "starts_at": "2026-11-18T20:00", "ends_at": "2026-11-19T08:00"}
    page = client.post(url, {**not_staff, "position": "1"}).content.decode()
    assert "值班人员必须是本街道的工作人员。" in page

    garbled = {"person": u.grid.pk, "starts_at": "明天早上", "ends_at": "", "position": "0"}
    page = client.post(url, garbled).content.decode()
    assert "请按“年-月-日 时:分”填写，例如 2026-11-18 08:00。" in page
    assert DutyShift.objects.count() == 1

    fine = {"person": u.grid.pk, "starts_at": "2026-11-18T20:00", "ends_at": "2026-11-19T08:00", "position": "2"}
    response = client.post(url, fine)
    assert response.status_code == 302 and response["Location"].endswith("?week=2026-11-16")
    week = client.get(response["Location"]).content.decode()
    assert "第2值班人" in week and "11-18 20:00–11-19 08:00" in week


def test_service_errors_name_every_field_at_once(street):
    u = street.users
    with pytest.raises(ValidationFailed) as caught:
        services.add_shift(u.dispatcher, person_id=u.resident.pk, starts_at=None, ends_at=None, position=0)
    fields = {error["field"] for error in caught.value.errors}
    assert fields == {"person", "starts_at", "ends_at", "position"}
    with pytest.raises(NotAllowed):
        services.add_shift(u.handler, person_id=u.handler.pk, starts_at=NOW, ends_at=NOW + minutes(60))
    assert not DutyShift.objects.exists()


# --- telling the first on duty, acknowledging ---------------------------------------------------------


def test_a_report_tells_the_first_on_duty_in_the_app_and_by_e_mail(street, roster, settings):
    settings.EMAIL_HOST, settings.DEFAULT_FROM_EMAIL = "127.0.0.1", "jiedao@street.example.cn"
    DeliveryRule.objects.update_or_create(
        kind="emergency_duty", channel="email", defaults={"to_person": True, "to_members": True, "enabled": True}
    )
    handler = street.users.handler
    handler.email = "zhang@street.example.cn"
    handler.save(update_fields=["email"])

    emergency = report(street)

    (note,) = told("emergency_duty")
    assert note.user == handler
    assert emergency.number in note.message and "东湖路1号" in note.message and "Ⅲ级" in note.message
    assert note.link == f"/emergency/{emergency.number}/ack/"
    mail = OutboxMessage.objects.get(channel="email")
    assert mail.address == "zhang@street.example.cn" and emergency.number in mail.text
    assert told("emergency_escalate") == []  # somebody is on duty: the leaders are not woken


def test_pressing_received_records_who_and_when_and_shows_the_time_taken(client, login, street, roster_now):
    emergency = report(street, at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=130))
    login(street.users.handler)
    url = f"/emergency/{emergency.number}/ack/"
    page = client.get(url).content.decode()
    assert "收到（确认接警）" in page

    page = client.post(url, follow=True).content.decode()

    ack = EmergencyEvent.objects.get(emergency=emergency, action="ack")
    assert ack.actor == street.users.handler
    assert 130 <= ack.data["seconds"] <= 160
    assert f"用时 {selectors.duration_text(ack.data['seconds'])}" in page
    assert "收到（确认接警）" not in page
    with pytest.raises(InvalidTransition):
        services.acknowledge(street.users.dispatcher, number=emergency.number)
    assert EmergencyEvent.objects.filter(action="ack").count() == 1


def test_only_those_told_or_the_command_centre_may_acknowledge(client, login, street, roster):
    emergency = report(street)
    with pytest.raises(NotAllowed):
        services.acknowledge(street.users.grid_other, number=emergency.number, at=NOW + minutes(1))
    login(street.users.grid_other)
    response = client.post(f"/emergency/{emergency.number}/ack/")
    assert response.status_code == 403
    assert "只有被通知的值班人员或指挥中心可以确认接警。" in response.content.decode()
    assert not EmergencyEvent.objects.filter(action="ack").exists()
    services.acknowledge(street.users.leader, number=emergency.number, at=NOW + minutes(1))
    assert EmergencyEvent.objects.get(action="ack").actor == street.users.leader


# --- escalation -------------------------------------------------------------------------------------


def test_no_acknowledgement_goes_to_the_second_then_the_leaders_each_once(street, roster):
    second_leader = make_user("leader2", "leader")
    emergency = report(street)
    assert services.escalate_unacknowledged(now=NOW + minutes(4)) == 0  # within the 5 minutes

    assert services.escalate_unacknowledged(now=NOW + minutes(5)) == 1
    assert services.escalate_unacknowledged(now=NOW + minutes(5)) == 0  # run twice: once
    duty = told("emergency_duty")
    assert [n.user for n in duty] == [street.users.handler, street.users.grid]
    assert "第2值班人" in duty[1].message

    assert services.escalate_unacknowledged(now=NOW + minutes(9)) == 0
    assert services.escalate_unacknowledged(now=NOW + minutes(10)) == 1
    assert services.escalate_unacknowledged(now=NOW + minutes(11)) == 0
    assert services.escalate_unacknowledged(now=NOW + minutes(60)) == 0  # the leaders are the end
    leaders = told("emergency_escalate")
    assert sorted(n.user.username for n in leaders) == sorted([street.users.leader.username, second_leader.username])
    assert all(n.link == f"/emergency/{emergency.number}/ack/" for n in leaders)
    steps = list(EmergencyEvent.objects.filter(emergency=emergency, action="escalate").values_list("at", flat=True))
    assert steps == [NOW + minutes(5), NOW + minutes(10)]

    # The leader may acknowledge from the link.
    services.acknowledge(street.users.leader, number=emergency.number, at=NOW + minutes(12))
    assert EmergencyEvent.objects.get(action="ack").data["seconds"] == 12 * 60


def test_an_acknowledged_emergency_is_not_escalated(street, roster):
    emergency = report(street)
    services.acknowledge(street.users.handler, number=emergency.number, at=NOW + minutes(3))
    assert services.escalate_unacknowledged(now=NOW + minutes(30)) == 0
    assert len(told("emergency_duty")) == 1


def test_the_limit_is_a_setting(street, roster, settings):
    settings.JIEDAO = {**settings.JIEDAO, "EMERGENCY_ACK_MINUTES": 2}
    report(street)
    assert services.escalate_unacknowledged(now=NOW + minutes(2)) == 1


def test_the_worker_job_escalates(street, roster_now):
    report(street, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6))
    assert tasks.enqueue_escalation_if_idle() is not None
    assert tasks.enqueue_escalation_if_idle() is None  # one waiting already
    assert tasks.escalate_unacknowledged_task.call() == 1
    assert [n.user for n in told("emergency_duty")][-1] == street.users.grid


def test_without_a_roster_the_leaders_are_told_at_once_and_the_board_says_so(client, login, street):
    emergency = report(street)
    (note,) = told("emergency_escalate")
    assert note.user == street.users.leader and "无人值班" in note.message
    assert told("emergency_duty") == []
    login(street.users.dispatcher)
    board = client.get("/emergency/").content.decode()
    assert "此刻值班表上无人值班" in board
    assert "待确认（已通知街道领导）" in board
    assert services.escalate_unacknowledged(now=NOW + minutes(30)) == 0
    assert emergency.events.filter(action="escalate").count() == 0


# --- the measure ------------------------------------------------------------------------------------


def test_ack_times_median_p90_and_unacknowledged_by_hand(street, roster):
    # Acknowledged after 60, 90, 120, 300 and 600 seconds; one never acknowledged.
    waits = [60, 90, 120, 300, 600]
    for n, wait in enumerate(waits):
        at = NOW + dt.timedelta(hours=n)
        emergency = report(street, at=at)
        services.acknowledge(street.users.handler, number=emergency.number, at=at + dt.timedelta(seconds=wait))
    report(street, at=NOW + dt.timedelta(hours=6))
    report(street, at=NOW - dt.timedelta(days=40))  # outside the period

    figures = selectors.ack_times(
        street.users.leader, since=NOW - dt.timedelta(days=1), until=NOW + dt.timedelta(days=1)
    )

    assert (figures.told, figures.count, figures.unacknowledged) == (6, 5, 1)
    assert figures.median_seconds == 120  # the middle of five
    assert figures.p90_seconds == 600  # nearest rank: ceil(0.9 × 5) = 5th smallest
    assert figures.median_text == "2分0秒"
    assert selectors.nearest_rank([float(s) for s in range(1, 11)], 0.9) == 9  # ninth of ten
    assert selectors.duration_text(130) == "2分10秒"


def test_the_board_and_the_roster_page_show_the_median(client, login, street, roster_now):
    now = dt.datetime.now(dt.UTC)
    for wait in (100, 130, 400):
        emergency = report(street, at=now - dt.timedelta(hours=1))
        services.acknowledge(
            street.users.handler, number=emergency.number, at=now - dt.timedelta(hours=1) + dt.timedelta(seconds=wait)
        )
    login(street.users.leader)
    board = client.get("/emergency/").content.decode()
    assert "接警确认：中位（近30天）" in board and "2分10秒" in board
    roster_page = client.get("/emergency/duty/").content.decode()
    assert "2分10秒" in roster_page and "P90 6分40秒" in roster_page


def test_a_coming_shift_can_be_deleted_an_ended_one_stays(client, login, street):
    u = street.users
    now = dt.datetime.now(dt.UTC)
    coming = shift(street, u.handler, 1, start=now + dt.timedelta(hours=1))
    ended = shift(street, u.grid, 1, start=now - dt.timedelta(days=2))
    login(u.dispatcher)
    assert client.post(f"/emergency/duty/{coming.pk}/remove/").status_code == 302
    page = client.post(f"/emergency/duty/{ended.pk}/remove/", follow=True).content.decode()
    assert "已结束的班次是值班记录，不能删除。" in page
    assert list(DutyShift.objects.all()) == [ended]


def test_the_operations_page_and_metrics_show_the_acknowledgement_times(client, login, street, roster_now):
    login(street.users.admin)
    assert "近30天没有需要确认的突发事件" in client.get("/ops/messages/").content.decode()
    assert "jiedao_emergency_ack_median_seconds -1.0" in client.get("/metrics").content.decode()
    now = dt.datetime.now(dt.UTC)
    for wait in (100, 130, 400):
        emergency = report(street, at=now - dt.timedelta(hours=1))
        services.acknowledge(
            street.users.handler, number=emergency.number, at=now - dt.timedelta(hours=1) + dt.timedelta(seconds=wait)
        )
    report(street, at=now - dt.timedelta(minutes=3))  # told, not yet acknowledged
    page = client.get("/ops/messages/").content.decode()
    assert "已确认 3 起，中位 2分10秒，90% 在 6分40秒 内；未确认 1 起。" in page
    metrics = client.get("/metrics").content.decode()
    assert "jiedao_emergency_ack_median_seconds 130.0" in metrics
    assert "jiedao_emergency_unacknowledged 1.0" in metrics
