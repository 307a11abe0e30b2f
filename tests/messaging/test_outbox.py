"""The outbox and the e-mail channel, against a real SMTP server on 127.0.0.1 (aiosmtpd): a
notification writes its e-mail in the same transaction, the worker's job sends it once with its
Message-ID, a server that answers "try later" delays it without losing or doubling it, a refused
recipient fails at once and is shown on the operations page (消息发送) for 重新发送, and a
worker that dies between claiming and sending loses nothing."""

import datetime as dt
import email
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.messaging import outbox, selectors, services, tasks
from jiedao.messaging.channels import channel
from jiedao.messaging.models import DeliveryRule, OutboxAttempt, OutboxMessage
from jiedao.messaging.services import notify

from .gateway import Gateway

pytestmark = pytest.mark.django_db

State = OutboxMessage.State


class Mailbox:
    """What the SMTP server received; ``refuse`` holds the answers to give to the next
    recipients (e.g. "451 …") before accepting again."""

    def __init__(self):
        self.messages = []
        self.refuse = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if self.refuse:
                return self.refuse.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def ids(self):
        return [m["Message-ID"] for m in self.messages]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "jiedao@street.example.cn"
    settings.JIEDAO = {**settings.JIEDAO, "OUTBOX_BACKOFF_SECONDS": 60, "OUTBOX_ATTEMPTS": 8}
    box.port = port
    box.controller = controller
    yield box
    controller.stop()


@pytest.fixture
def handler(street):
    person = street.users.handler_committee
    person.email = "wang.handler@street.example.cn"
    person.save(update_fields=["email"])
    return person


def dispatched(make_case):
    case = make_case()  # routed to the 东湖社区居委会, where the handler works
    return case


def test_notify_of_a_dispatch_writes_its_e_mail_in_the_same_transaction(smtp, street, handler, make_case):
    case = dispatched(make_case)
    [message] = OutboxMessage.objects.all()
    assert (message.kind, message.channel, message.address, message.state) == (
        "dispatch",
        "email",
        handler.email,
        State.QUEUED,
    )
    assert case.number in message.text and message.link.endswith(f"/cases/{case.number}/")
    assert message.notification.unit == street.units.committee1
    assert len(message.key) == 32 and smtp.messages == []  # nothing is sent in the request

    with pytest.raises(RuntimeError), transaction.atomic():
        notify(unit=street.units.committee1, kind="dispatch", message="不会发出的派单")
        raise RuntimeError
    assert OutboxMessage.objects.count() == 1


def test_nobody_without_an_address_and_no_disabled_rule_gets_an_e_mail(smtp, street, handler):
    notify(unit=street.units.enforcement, kind="dispatch", message="综合执法队无人留邮箱")
    assert not OutboxMessage.objects.exists()
    rule = DeliveryRule.objects.get(kind="dispatch", channel="email")
    rule.enabled = False
    rule.save()  # as the admin saves it: counts at once
    notify(unit=street.units.committee1, kind="dispatch", message="规则已关闭")
    assert not OutboxMessage.objects.exists()


def test_the_worker_job_sends_it_once_with_its_message_id(smtp, street, handler, make_case):
    dispatched(make_case)
    message = OutboxMessage.objects.get()
    assert tasks.enqueue_outbox_if_due() is not None
    counts = tasks.send_outbox_task.call()
    assert counts == {"sent": 1, "retry": 0, "failed": 0}
    assert smtp.ids() == [f"<{message.key}@street.example.cn>"]
    assert smtp.messages[0]["To"] == handler.email
    message.refresh_from_db()
    assert message.state == State.SENT and message.sent_at and message.provider_id == smtp.ids()[0]
    assert [(a.ok, a.code) for a in message.attempt_log.all()] == [(True, "250")]
    assert tasks.enqueue_outbox_if_due() is None  # nothing more is due
    outbox.send_due(now=timezone.now() + dt.timedelta(hours=1))
    assert len(smtp.messages) == 1


def test_a_server_that_says_try_later_delays_the_message_and_delivers_it_once(smtp, street, handler):
    notify(user=handler, kind="supervise", message="请于今日内答复督办事项")
    message = OutboxMessage.objects.get()
    smtp.refuse = ["451 4.3.0 Mailbox busy, try later", "451 4.3.0 Mailbox busy, try later"]
    t0 = timezone.now()
    assert outbox.send_due(now=t0)["retry"] == 1
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_code) == (State.QUEUED, 1, "451")
    assert "try later" in message.last_answer
    assert message.next_attempt_at == t0 + dt.timedelta(minutes=1)
    # Not again before its time.
    assert outbox.send_due(now=t0 + dt.timedelta(seconds=59)) == {"sent": 0, "retry": 0, "failed": 0}
    t1 = t0 + dt.timedelta(minutes=1)
    assert outbox.send_due(now=t1)["retry"] == 1
    message.refresh_from_db()
    assert message.next_attempt_at == t1 + dt.timedelta(minutes=2)  # the wait doubles
    assert outbox.send_due(now=t1 + dt.timedelta(minutes=2))["sent"] == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.SENT, 3)
    assert smtp.ids() == [f"<{message.key}@street.example.cn>"]
    assert [a.ok for a in message.attempt_log.all()] == [False, False, True]


def test_the_last_attempt_fails_the_message(smtp, street, handler, settings):
    settings.JIEDAO = {**settings.JIEDAO, "OUTBOX_ATTEMPTS": 2}
    notify(user=handler, kind="supervise", message="督办")
    smtp.refuse = ["451 busy"] * 5
    t0 = timezone.now()
    outbox.send_due(now=t0)
    assert outbox.send_due(now=t0 + dt.timedelta(minutes=5))["failed"] == 1
    assert OutboxMessage.objects.get().state == State.FAILED and smtp.messages == []


def test_a_refused_recipient_fails_at_once_and_is_shown_for_resending(smtp, street, handler, login):
    notify(user=handler, kind="supervise", message="请于今日内答复督办事项")
    message = OutboxMessage.objects.get()
    smtp.refuse = ["550 5.1.1 User unknown"]
    assert outbox.send_due(now=timezone.now()) == {"sent": 0, "retry": 0, "failed": 1}
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_code) == (State.FAILED, 1, "550")

    page = login(street.users.admin).get(reverse("messaging:outbox"))
    html = page.content.decode()
    assert page.status_code == 200 and "User unknown" in html and "w***@street.example.cn" in html
    assert handler.email not in html
    [email_row] = [row for row in page.context["channels"] if row["code"] == "email"]
    assert (email_row["failed"], email_row["queued"]) == (1, 0)

    client = login(street.users.admin)
    response = client.post(reverse("messaging:resend", args=[message.pk]), follow=True)
    assert "已重新放入发送队列" in response.content.decode()
    message.refresh_from_db()
    assert (message.state, message.attempts) == (State.QUEUED, 0)
    resend = message.attempt_log.get(action=OutboxAttempt.Action.RESEND)
    assert resend.actor == street.users.admin
    assert outbox.send_due(now=timezone.now())["sent"] == 1
    assert smtp.ids() == [f"<{message.key}@street.example.cn>"]
    # A message that did not fail cannot be sent again.
    again = client.post(reverse("messaging:resend", args=[message.pk]), follow=True).content.decode()
    assert "只有发送失败的消息可以重新发送" in again
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("who", ["handler", "leader", "dispatcher"])
def test_only_administrators_open_the_operations_page_and_resend(smtp, street, handler, login, who):
    notify(user=handler, kind="supervise", message="督办")
    smtp.refuse = ["550 no such user"]
    outbox.send_due(now=timezone.now())
    message = OutboxMessage.objects.get()
    client = login(getattr(street.users, who))
    assert client.get(reverse("messaging:outbox")).status_code == 403
    assert client.post(reverse("messaging:resend", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.state == State.FAILED and not message.attempt_log.filter(action="resend").exists()


def test_the_navigation_leads_administrators_to_the_page(street, login):
    html = login(street.users.admin).get("/", follow=True).content.decode()
    assert f'href="{reverse("messaging:outbox")}"' in html and "消息发送" in html
    assert reverse("messaging:outbox") not in login(street.users.leader).get("/", follow=True).content.decode()


def test_a_worker_that_dies_between_claim_and_send_loses_nothing(smtp, street, handler):
    notify(user=handler, kind="supervise", message="督办")
    t0 = timezone.now()
    [claimed] = outbox.claim(now=t0)  # the worker dies here, before sending
    assert OutboxMessage.objects.get().state == State.SENDING
    # Within the lease, no other worker takes it.
    assert outbox.send_due(now=t0 + dt.timedelta(minutes=4)) == {"sent": 0, "retry": 0, "failed": 0}
    assert outbox.send_due(now=t0 + outbox.lease() + dt.timedelta(seconds=1))["sent"] == 1
    assert smtp.ids() == [f"<{claimed.key}@street.example.cn>"]
    # The dead worker's late result, had it come back, changes nothing.
    assert outbox.send_one(claimed, now=t0 + dt.timedelta(minutes=6)) == "sent"
    message = OutboxMessage.objects.get()
    assert message.state == State.SENT and message.attempts == 1


def test_several_messages_each_arrive_exactly_once(smtp, street, handler):
    people = [street.users.grid, street.users.leader, street.users.dispatcher, street.users.operator]
    for n, person in enumerate(people):
        person.email = f"staff{n}@street.example.cn"
        person.save(update_fields=["email"])
    notify(users=[*people, handler.pk], kind="whistle", message="吹哨报到：请于两小时内到场")
    notify(unit=street.units.committee1, kind="dispatch", message="新派单")
    keys = set(OutboxMessage.objects.values_list("key", flat=True))
    assert len(keys) == 6
    now = timezone.now()
    first = outbox.claim(now=now, limit=3)  # one worker takes three …
    second = outbox.send_due(now=now)  # … another the rest
    for message in first:
        outbox.send_one(message, now=now)
    assert second["sent"] == 3
    received = smtp.ids()
    assert sorted(received) == sorted(f"<{key}@street.example.cn>" for key in keys)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.SENT}


def test_a_server_that_cannot_be_reached_is_tried_again(smtp, street, handler, settings):
    notify(user=handler, kind="supervise", message="督办")
    settings.EMAIL_PORT = free_port()  # nobody listens there
    assert outbox.send_due(now=timezone.now())["retry"] == 1
    message = OutboxMessage.objects.get()
    assert message.state == State.QUEUED and message.last_code == "connection"
    assert "无法连接发信服务器" in message.last_answer


def test_without_a_mail_server_no_e_mail_is_queued_and_the_page_says_why(street, handler, settings, login):
    settings.EMAIL_HOST = ""
    assert channel("email").check() == ["未设置发信服务器（SMTP）地址，电子邮件无法发出。"]
    notify(user=handler, kind="supervise", message="督办")
    assert not OutboxMessage.objects.exists()
    html = login(street.users.admin).get(reverse("messaging:outbox")).content.decode()
    assert "未设置发信服务器（SMTP）地址" in html


def test_metrics_show_failed_and_queued_messages_and_the_latency(smtp, street, handler, client):
    notify(user=handler, kind="supervise", message="督办一")
    notify(user=handler, kind="supervise", message="督办二")
    notify(user=handler, kind="supervise", message="督办三")
    smtp.refuse = ["550 no such user"]
    outbox.send_due(now=timezone.now(), limit=2)
    text = client.get("/metrics").content.decode()
    assert "jiedao_outbox_failed 1.0" in text and "jiedao_outbox_queued 1.0" in text
    latencies = selectors.delivery_latencies()
    assert len(latencies) == 1
    assert f"jiedao_outbox_latency_median_seconds {latencies[0]}" in text


def test_resend_refuses_what_is_not_a_failed_message(street):
    with pytest.raises(NotAllowed):
        services.resend(street.users.leader, message_id=1)
    with pytest.raises(ValidationFailed):
        services.resend(street.users.admin, message_id="x")
    with pytest.raises(NotFound):
        services.resend(street.users.admin, message_id=999)


def test_the_pool_sends_many_messages_at_once_each_exactly_once(street, handler, settings):
    gateway = Gateway(delay=0.05)
    try:
        settings.SMS_HTTP = gateway.settings()
        settings.JIEDAO = {**settings.JIEDAO, "OUTBOX_CONCURRENCY": 8}
        DeliveryRule.objects.update_or_create(
            kind="supervise", channel="sms_http", defaults={"to_person": True, "to_members": False, "enabled": True}
        )
        handler.phone = "13800138000"
        handler.save(update_fields=["phone"])
        for n in range(30):
            notify(user=handler, kind="supervise", message=f"督办第 {n + 1} 件")
        keys = set(OutboxMessage.objects.filter(channel="sms_http").values_list("key", flat=True))
        assert len(keys) == 30

        counts = outbox.send_due(now=timezone.now())

        assert counts["sent"] == 30 and counts["retry"] == counts["failed"] == 0
        assert sorted(gateway.accepted) == sorted(keys)  # every message once, none twice
        assert gateway.most_at_once > 1  # several were with the gateway at the same time
        sms = OutboxMessage.objects.filter(channel="sms_http")
        assert set(sms.values_list("state", flat=True)) == {State.SENT}
        assert all(m.provider_id == f"G-{m.key}" and m.attempts == 1 for m in sms)
        assert OutboxAttempt.objects.filter(message__channel="sms_http", ok=True).count() == 30
        # Nothing is sent again later.
        assert outbox.send_due(now=timezone.now() + dt.timedelta(hours=1))["sent"] == 0
        assert len(gateway.accepted) == 30
    finally:
        gateway.close()
