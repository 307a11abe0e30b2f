"""Pulling an upstream platform's requests when it answers badly, and what is sent back: an
HTTP server on 127.0.0.1 plays a platform that answers what each test sets."""

import datetime as dt
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.cases.models import Case
from jiedao.messaging import outbox
from jiedao.messaging.models import OutboxMessage
from jiedao.open311 import tasks, upstreams
from jiedao.open311.models import Upstream, UpstreamCase


class Platform:
    """Answers ``GET …/requests.json`` with ``status`` and ``body``; ``POST`` with ``post_status``."""

    def __init__(self):
        self.status, self.body = 200, b"[]"
        self.post_status = 200
        self.queries: list[dict] = []
        self.posted: list[dict] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                platform.queries.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))
                self._answer(platform.status, platform.body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                platform.posted.append(dict(urllib.parse.parse_qsl(body)))
                self._answer(platform.post_status, json.dumps([{"update_id": str(len(platform.posted))}]).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/open311/v2"

    def requests(self, *items):
        self.status, self.body = 200, json.dumps(list(items), ensure_ascii=False).encode()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platform():
    platform = Platform()
    yield platform
    platform.close()


@pytest.fixture
def upstream(street, platform):
    return upstreams.save_upstream(
        Upstream(
            name="区12345平台", base_url=platform.base + "/", api_key="k-secret-123456", jurisdiction_id="110105001"
        )
    )


@pytest.fixture
def one_by_one(settings):
    settings.JIEDAO = {**settings.JIEDAO, "OUTBOX_CONCURRENCY": 1}


def request(number, **fields):
    item = {
        "service_request_id": number,
        "service_code": "010102",
        "description": f"路灯不亮（{number}）",
        "requested_datetime": "2026-11-18T09:30:00+08:00",
        "address": "东湖小区3号楼",
        "lat": 39.905,
        "long": 116.405,
    }
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def test_a_request_missing_its_fields_is_named_and_the_others_are_taken_in(upstream, platform):
    platform.requests(
        request("C-1"),
        request("C-2", description=None, requested_datetime=None),
        request("C-3"),
        request("C-4", lat=200),  # off the globe: the intake refuses it
    )
    result = upstreams.sync(upstream)
    assert len(result.created) == 2
    assert set(UpstreamCase.objects.values_list("request_id", flat=True)) == {"C-1", "C-3"}
    upstream.refresh_from_db()
    assert upstream.last_ok is False
    assert "请求 C-2：缺少 description、requested_datetime，未建工单。" in upstream.last_result
    assert "请求 C-4：" in upstream.last_result
    assert "新建工单 2 件" in upstream.last_result and "有问题 2 条" in upstream.last_result
    # It asked for our jurisdiction, with the key; the first pull has no window (the server's default).
    assert platform.queries[0]["jurisdiction_id"] == "110105001"
    assert platform.queries[0]["api_key"] == "k-secret-123456"
    assert "start_date" not in platform.queries[0]
    # The next pull asks from the last one on, and takes nothing in twice.
    upstreams.sync(upstream)
    assert Case.objects.count() == 2
    assert upstreams.parse_when(platform.queries[-1]["start_date"]) < upstream.last_synced_at


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ((403, b'[{"code":403,"description":"api_key invalid"}]'), "上级平台拒绝了接口密钥（HTTP 403）"),
        ((401, b""), "上级平台拒绝了接口密钥（HTTP 401）"),
        ((200, b"<html>maintenance</html>"), "上级平台的答复不是 GeoReport v2 的请求列表"),
        ((502, b"Bad Gateway"), "上级平台答复 HTTP 502"),
    ],
)
def test_a_refused_or_unreadable_list_is_recorded_in_chinese_and_the_window_stays(upstream, platform, answer, words):
    platform.status, platform.body = answer
    result = upstreams.sync(upstream)
    assert result.failed and result.created == []
    upstream.refresh_from_db()
    assert upstream.last_ok is False and upstream.last_synced_at is None
    assert upstream.last_result.startswith("同步失败：") and words in upstream.last_result
    assert "k-secret-123456" not in upstream.last_result


def test_an_unreachable_platform_is_recorded_and_the_worker_goes_on(upstream, platform):
    platform.close()
    counts = upstreams.sync_due()
    assert counts == {"upstreams": 1, "created": 0, "failed": 1}
    upstream.refresh_from_db()
    assert "无法连接上级平台" in upstream.last_result
    # Not due again before its interval; due after it.
    assert upstreams.due_upstreams() == []
    later = timezone.now() + dt.timedelta(minutes=upstream.interval_minutes)
    assert upstreams.due_upstreams(later) == [upstream]


def test_the_worker_queues_a_pull_only_when_one_is_due(upstream, platform):
    assert tasks.enqueue_sync_if_due() is not None
    assert tasks.enqueue_sync_if_due() is None  # one is waiting already
    upstreams.sync(upstream)
    assert upstreams.due_upstreams() == []


def test_only_the_steps_of_pulled_cases_are_sent_back_and_a_rolled_back_step_sends_nothing(
    street, upstream, platform, one_by_one
):
    platform.requests(request("C-9"))
    upstreams.sync(upstream)
    pulled = UpstreamCase.objects.get().case
    own, _new = case_services.submit_case(
        street.users.operator, channel="12345", description="噪音扰民", lat=39.905, lng=116.405, category_code="010102"
    )
    users = street.users
    for number in (pulled.number, own.number):
        case_services.dispatch(users.dispatcher, number=number, unit_code="ZHZF")
        case_services.respond(users.handler, number=number, note="马上处理")
    with pytest.raises(RuntimeError), transaction.atomic():
        case_services.add_note(users.handler, number=pulled.number, note="这一步没有保存")
        raise RuntimeError
    queued = OutboxMessage.objects.filter(channel="open311")
    assert queued.count() == 1
    assert outbox.send_due() == {"sent": 1, "retry": 0, "failed": 0}
    (posted,) = platform.posted
    assert posted["service_request_id"] == "C-9"
    assert posted["status"] == "in_progress"
    assert "马上处理" in posted["description"]
    assert posted["update_id"] == queued.get().key
    assert posted["api_key"] == "k-secret-123456"
    assert posted["jurisdiction_id"] == "110105001"


def test_a_refused_key_fails_the_update_at_once_and_is_shown_on_the_page(street, upstream, platform, one_by_one):
    platform.requests(request("C-5"))
    upstreams.sync(upstream)
    number = UpstreamCase.objects.get().case.number
    case_services.dispatch(street.users.dispatcher, number=number, unit_code="ZHZF")
    case_services.respond(street.users.handler, number=number)
    platform.post_status = 403
    assert outbox.send_due() == {"sent": 0, "retry": 0, "failed": 1}
    message = OutboxMessage.objects.get(channel="open311")
    assert "上级平台拒绝了接口密钥（HTTP 403）" in message.last_answer

    client = Client()
    client.force_login(street.users.admin)
    page = client.get("/open311/upstreams/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "区12345平台" in text and "同步完成：新建工单 1 件" in text
    assert "上级平台拒绝了接口密钥" in text
    assert "k-secret-123456" not in text
    # Street staff other than administrators do not see it.
    client.force_login(street.users.handler)
    assert client.get("/open311/upstreams/").status_code == 403


def test_an_administrator_registers_a_platform_and_its_key_is_kept_encrypted(street, platform):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    form = {
        "name": "市12345平台",
        "base_url": platform.base,
        "api_key": "",
        "jurisdiction_id": "110105001",
        "enabled": "on",
        "interval_minutes": "0",
    }
    refused = client.post("/admin/open311/upstream/add/", form)
    assert refused.status_code == 200 and not Upstream.objects.exists()
    text = refused.content.decode()
    assert "请填写接口密钥。" in text
    assert "同步间隔至少为1分钟。" in text

    added = client.post("/admin/open311/upstream/add/", {**form, "api_key": "k-plain-987654", "interval_minutes": "5"})
    assert added.status_code == 302
    upstream = Upstream.objects.get()
    assert upstream.api_key == "k-plain-987654"
    assert upstream.user is not None and upstream.user.has_role("operator")
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM open311_upstream WHERE id = %s", [upstream.pk])
        (stored,) = cursor.fetchone()
    assert "k-plain-987654" not in stored
    # Left empty when editing: the key stays.
    client.post(f"/admin/open311/upstream/{upstream.pk}/change/", {**form, "interval_minutes": "10"})
    upstream.refresh_from_db()
    assert upstream.api_key == "k-plain-987654" and upstream.interval_minutes == 10
