"""Outgoing webhooks: deliveries are prepared from the committed case event log (so a
rolled-back step sends nothing and the case loop never waits), are signed with
HMAC-SHA256, are retried with exponential back-off against a real HTTP server, and a
failing endpoint never holds up the case loop."""

import datetime as dt
import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.open311 import services
from jiedao.open311.models import Delivery, Webhook
from jiedao.open311.tasks import enqueue_deliveries_if_due

PORTS = range(8711, 8721)


class Receiver:
    """A real HTTP server in a thread: answers with the next status of ``script`` (then 200),
    or sleeps ``delay`` seconds first; records what it received."""

    def __init__(self, script=(), delay=0.0):
        self.script = list(script)
        self.delay = delay
        self.received = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args):
                pass

        for port in PORTS:
            try:
                self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError:
                continue
        else:
            raise RuntimeError("no free port in 8711-8720")
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(script=(), delay=0.0):
        made.append(Receiver(script, delay))
        return made[-1]

    yield make
    for r in made:
        r.close()


def webhook(url, events=(), secret="s3cret-shared", **values):
    return services.save_webhook(Webhook(name="城市平台", url=url, events=list(events), secret=secret, **values))


def submit(street, **values):
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="phone",
        description="井盖丢失",
        reporter_phone="13812345678",
        reporter_name="张三",
        lat=39.905,
        lng=116.405,
        category_code="010101",
        **values,
    )
    return case


def verify(secret, headers, body):
    """What a receiver does: recompute the signature over timestamp + '.' + body."""
    expected = hmac.new(
        secret.encode(), headers["X-Jiedao-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["X-Jiedao-Signature"], "sha256=" + expected)


# --- deliveries are prepared from the event log --------------------------------------------------------


def test_a_case_event_queues_one_delivery_per_subscribed_webhook(street):
    everything = webhook("https://a.example.cn/hook")
    dispatch_only = webhook("https://b.example.cn/hook", events=["case.dispatched"])
    case = submit(street, dispatch=True)
    assert services.collect_events() == 3
    assert sorted(everything.deliveries.values_list("event", flat=True)) == ["case.created", "case.dispatched"]
    [delivery] = dispatch_only.deliveries.all()
    assert delivery.event == "case.dispatched" and delivery.status == "pending"
    payload = delivery.payload
    assert payload["case"]["number"] == case.number
    assert payload["case"]["unit"]["code"] == case.unit.code
    assert payload["to_status"] == "dispatched" and payload["case"]["open311_status"] == "open"
    # Public fields only: no reporter.
    text = json.dumps(payload, ensure_ascii=False)
    assert "13812345678" not in text and "张三" not in text


def test_a_rolled_back_action_leaves_no_delivery(street):
    webhook("https://a.example.cn/hook")
    with pytest.raises(RuntimeError), transaction.atomic():
        submit(street)
        raise RuntimeError("the action fails after its event was written")
    services.collect_events()
    assert not Delivery.objects.exists()


def test_events_before_the_webhook_and_imported_history_are_not_sent(street):
    from jiedao.cases.models import CaseEvent

    submit(street)
    hook = webhook("https://a.example.cn/hook")
    case = submit(street)
    CaseEvent.objects.bulk_create(
        [CaseEvent(case=case, seq=9, at=case.created_at, action="note", data={"import": "old.csv"})]
    )
    services.collect_events()
    assert list(hook.deliveries.values_list("payload__case__number", flat=True)) == [case.number]


def test_collecting_twice_sends_nothing_twice(street):
    hook = webhook("https://a.example.cn/hook")
    submit(street)
    services.collect_events()
    services.collect_events()
    submit(street)
    services.collect_events()
    assert hook.deliveries.count() == 2


def test_closing_by_rating_is_also_a_closed_event(street):
    hook = webhook("https://a.example.cn/hook", events=["case.closed", "case.rated"])
    case = submit(street)
    case_services.dispatch(street.users.dispatcher, number=case.number)
    handler = street.users.handler_committee
    case_services.respond(handler, number=case.number)
    case_services.resolve(handler, number=case.number, result="已补装井盖")
    case_services.rate(street.users.operator, number=case.number, resolved=True, satisfaction="satisfied")
    services.collect_events()
    assert sorted(hook.deliveries.values_list("event", flat=True)) == ["case.closed", "case.rated"]


def test_an_inactive_webhook_gets_nothing(street):
    webhook("https://a.example.cn/hook", active=False)
    submit(street)
    services.collect_events()
    assert not Delivery.objects.exists()


def test_unknown_event_names_are_refused(street):
    from jiedao.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        webhook("https://a.example.cn/hook", events=["case.exploded"])


# --- signing ------------------------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_and_body():
    body = b'{"event":"case.created"}'
    signature = services.sign("k3y", timestamp="1700000000", body=body)
    assert signature == "sha256=" + hmac.new(b"k3y", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature != services.sign("other", timestamp="1700000000", body=body)
    assert signature != services.sign("k3y", timestamp="1700000001", body=body)


def test_delivered_requests_carry_a_signature_the_receiver_can_verify(street, receiver):
    server = receiver()
    hook = webhook(server.url, secret="shared-with-receiver")
    submit(street)
    counts = services.deliver_due()
    assert counts == {"delivered": 1, "retry": 0, "failed": 0}
    [(headers, body)] = server.received
    assert headers["X-Jiedao-Event"] == "case.created"
    assert verify("shared-with-receiver", headers, body)
    assert not verify("a-guess", headers, body)
    assert abs(int(headers["X-Jiedao-Timestamp"]) - time.time()) < 60
    delivery = hook.deliveries.get()
    assert delivery.status == "delivered" and delivery.response_code == 200 and delivery.attempts == 1
    assert json.loads(body)["event_id"] == delivery.case_event_id


# --- retries --------------------------------------------------------------------------------------


def test_failures_are_retried_with_exponential_back_off(street, receiver):
    server = receiver(script=[500, 503])
    hook = webhook(server.url)
    submit(street)
    services.collect_events()
    delivery = hook.deliveries.get()
    t0 = timezone.now()

    assert services.deliver_due(now=t0, base=30) == {"delivered": 0, "retry": 1, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.next_try_at == t0 + dt.timedelta(seconds=30)
    assert delivery.response_body == "try later"

    # Not due yet: nothing is sent.
    assert services.deliver_due(now=t0 + dt.timedelta(seconds=29), base=30)["retry"] == 0
    assert len(server.received) == 1

    t1 = t0 + dt.timedelta(seconds=30)
    services.deliver_due(now=t1, base=30)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_code) == (2, 503)
    assert delivery.next_try_at == t1 + dt.timedelta(seconds=60)  # twice the wait

    services.deliver_due(now=t1 + dt.timedelta(seconds=60), base=30)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert len(server.received) == 3
    # Every try is signed and carries the same event.
    assert all(verify("s3cret-shared", h, b) for h, b in server.received)
    assert len({b for _h, b in server.received}) == 1


def test_a_delivery_is_given_up_after_the_maximum_attempts(street, receiver):
    server = receiver(script=[500] * 10)
    hook = webhook(server.url, max_attempts=3)
    submit(street)
    now = timezone.now()
    for _ in range(3):
        services.deliver_due(now=now, base=1)
        now += dt.timedelta(hours=1)
    delivery = hook.deliveries.get()
    assert (delivery.status, delivery.attempts, delivery.next_try_at) == ("failed", 3, None)
    services.deliver_due(now=now + dt.timedelta(days=1))
    assert len(server.received) == 3
    # The administrator may send it again.
    services.retry_now(Delivery.objects.all(), now=now)
    assert Delivery.objects.get().status == "pending"


def test_back_off_grows_and_is_capped():
    waits = [services.backoff(n, base=30).total_seconds() for n in range(1, 12)]
    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) == 6 * 3600


# --- a failing endpoint never blocks the case loop ---------------------------------------------------


def test_submitting_a_case_never_waits_for_a_slow_or_dead_endpoint(street, receiver):
    slow = receiver(delay=3.0)
    webhook(slow.url)
    webhook("http://127.0.0.1:8710/nobody-listens")
    started = time.monotonic()
    case = submit(street, dispatch=True)
    assert time.monotonic() - started < 2.0  # the slow endpoint alone would take 3 s
    assert case.status == "dispatched"
    assert slow.received == []  # nothing is sent, or even prepared, by the case loop
    assert services.collect_events() == 4
    assert Delivery.objects.filter(status="pending").count() == 4


def test_a_dead_endpoint_costs_one_try_per_round_and_others_still_get_theirs(street, receiver):
    healthy = receiver()
    dead = webhook("http://127.0.0.1:8710/nobody-listens")
    good = webhook(healthy.url)
    submit(street, dispatch=True)  # two events: created and dispatched
    counts = services.deliver_due(timeout=0.5)
    assert counts["delivered"] == 2
    assert good.deliveries.filter(status="delivered").count() == 2
    tried = dead.deliveries.order_by("id")
    assert [d.attempts for d in tried] == [1, 0]  # the second waits for the next round, untried
    assert tried[0].error and tried[0].response_code is None


def test_the_worker_queues_a_round_only_when_something_is_due(street):
    from django_tasks_db.models import DBTaskResult

    submit(street)
    assert enqueue_deliveries_if_due() is None  # no webhook: nothing to do, whatever happens
    webhook("https://a.example.cn/hook")
    assert enqueue_deliveries_if_due() is None
    submit(street)
    assert enqueue_deliveries_if_due() is not None
    assert enqueue_deliveries_if_due() is None  # one round waiting is enough
    assert DBTaskResult.objects.count() == 1


# --- history in the admin and on the page ---------------------------------------------------------------


@pytest.fixture
def admin_client(client, street):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def test_delivery_history_is_visible_to_the_administrator(admin_client, street, receiver):
    server = receiver(script=[500])
    webhook(server.url)
    case = submit(street)
    services.deliver_due()
    page = admin_client.get("/open311/webhooks/")
    assert page.status_code == 200
    text = page.content.decode()
    assert case.number in text and "case.created" in text and "500" in text
    admin_list = admin_client.get("/admin/open311/delivery/")
    assert admin_list.status_code == 200 and "case.created" in admin_list.content.decode()
    assert admin_client.get(f"/admin/open311/delivery/{Delivery.objects.get().pk}/change/").status_code == 200


def test_the_webhook_page_is_for_administrators_only(client, street):
    client.force_login(street.users.leader)
    assert client.get("/open311/webhooks/").status_code == 403


def test_a_webhook_added_in_the_admin_gets_a_secret_shown_once(admin_client):
    response = admin_client.post(
        "/admin/open311/webhook/add/",
        {
            "name": "区平台",
            "url": "https://district.example.cn/jiedao",
            "events": ["case.created", "case.closed"],
            "secret": "",
            "active": "on",
            "max_attempts": "8",
        },
        follow=True,
    )
    assert response.status_code == 200
    hook = Webhook.objects.get()
    assert len(hook.secret) >= 32 and hook.events == ["case.created", "case.closed"]
    assert hook.secret in response.content.decode()
