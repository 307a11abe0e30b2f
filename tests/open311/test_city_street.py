"""Two installations on one machine: the city platform as a real ``jiedao serve`` process with
its own data directory and SQLite database, and the street (this test's database) pulling the
city's requests as cases and posting its steps back through the outbox."""

import datetime as dt
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.cases.models import Case, Channel
from jiedao.messaging import outbox
from jiedao.messaging.models import OutboxMessage
from jiedao.open311 import statuses, upstreams
from jiedao.open311.models import Upstream, UpstreamCase

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

CITY_SETUP = """
import django
django.setup()
from tests.factories import build_street
from jiedao.open311 import services

street = build_street()
key, plain = services.create_key("示范街道")
print(street.street.code)
print(plain)
"""

CITY_REQUESTS = [
    {"service_code": "010102", "description": "东湖小区3号楼门口路灯不亮已经一周", "lat": "39.905", "long": "116.405"},
    {
        "service_code": "010102",
        "description": "东湖社区健身器材损坏，老人锻炼不安全",
        "lat": "39.906",
        "long": "116.406",
    },
    {"service_code": "010101", "description": "西园社区垃圾桶满了没人清运", "address_string": "西园社区5号楼"},
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class City:
    """The city installation: migrated, with its street, a key for ours, and its server."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/open311/v2"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JIEDAO_TASK_BACKEND")}
        self.env.update(
            {
                "JIEDAO_DATA_DIR": str(data_dir),
                "DJANGO_SETTINGS_MODULE": "jiedao.settings",
                "PYTHONPATH": str(REPO),
                "JIEDAO_OPEN311_CACHE_SECONDS": "0",
            }
        )
        self.server = None
        subprocess.run([str(BIN / "jiedao"), "migrate", "-v", "0"], env=self.env, check=True, timeout=300)
        made = subprocess.run(
            [sys.executable, "-c", CITY_SETUP],
            env=self.env,
            cwd=REPO,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        self.jurisdiction, self.key = made.stdout.strip().splitlines()[-2:]

    def start(self):
        self.log = open(self.data_dir / "server.log", "a")
        self.server = subprocess.Popen(
            [str(BIN / "jiedao"), "serve", "--port", str(self.port), "--workers", "1", "--threads", "2"],
            env=self.env,
            cwd=self.data_dir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.data_dir / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"{self.base}/services.json", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the city's server did not answer")

    def stop(self):
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None
        self.log.close()

    def post_request(self, fields):
        body = urllib.parse.urlencode({"api_key": self.key, "jurisdiction_id": self.jurisdiction, **fields}).encode()
        with urllib.request.urlopen(f"{self.base}/requests.json", data=body, timeout=10) as answer:
            return json.loads(answer.read())[0]["service_request_id"]

    def updates_of(self, number):
        """The updates the city's database holds for its request, as posted by our street."""
        with sqlite3.connect(self.data_dir / "jiedao.sqlite3", timeout=10) as db:
            return db.execute(
                "SELECT u.status, u.description, u.client_update_id FROM open311_externalupdate u "
                "JOIN cases_case c ON c.id = u.case_id WHERE c.number = ? ORDER BY u.id",
                (number,),
            ).fetchall()

    def public_updates(self, number):
        """The same, as anyone reads them through the city's Open311 API."""
        query = urllib.parse.urlencode({"service_request_id": number})
        with urllib.request.urlopen(f"{self.base}/servicerequestupdates.json?{query}", timeout=10) as answer:
            return [u for u in json.loads(answer.read()) if u["update_id"]]


@pytest.fixture
def city(tmp_path):
    city = City(tmp_path / "city")
    city.start()
    yield city
    city.stop()


@pytest.fixture
def one_by_one(settings):
    # Send in this thread, so that the street's test database is read where it was written.
    settings.JIEDAO = {**settings.JIEDAO, "OUTBOX_CONCURRENCY": 1}


@pytest.mark.slow
def test_the_street_pulls_the_city_requests_and_reports_back(city, street, one_by_one):
    numbers = [city.post_request(fields) for fields in CITY_REQUESTS]
    upstream = upstreams.save_upstream(
        Upstream(name="市12345平台", base_url=city.base, api_key=city.key, jurisdiction_id=city.jurisdiction)
    )

    # The pull: one case per city request, on the 12345 channel, under the city's number.
    result = upstreams.sync(upstream)
    assert sorted(result.created) and not result.problems, upstream.last_result
    links = {link.request_id: link.case for link in UpstreamCase.objects.select_related("case")}
    assert set(links) == set(numbers)
    lamp = links[numbers[0]]
    assert lamp.channel == Channel.HOTLINE_12345
    assert lamp.category.code == "010102"
    assert lamp.lat == pytest.approx(39.905) and lamp.lng == pytest.approx(116.405)
    assert CITY_REQUESTS[0]["description"] in lamp.description and numbers[0] in lamp.description
    assert links[numbers[2]].address.startswith("西园社区")
    upstream.refresh_from_db()
    assert upstream.last_ok and upstream.last_synced_at is not None
    assert "新建工单 3 件" in upstream.last_result

    # Pulling again changes nothing.
    again = upstreams.sync(upstream)
    assert again.created == [] and not again.failed
    assert Case.objects.count() == 3
    assert "新建工单 0 件" in Upstream.objects.get().last_result

    # The street acts on the lamp; the outbox posts each step back to the city.
    users = street.users
    case_services.dispatch(users.dispatcher, number=lamp.number, unit_code="ZHZF")
    case_services.respond(users.handler, number=lamp.number, note="已安排电工今天下午到场")
    resolved = case_services.resolve(users.handler, number=lamp.number, result="已更换灯泡，路灯恢复照明")
    after_result = statuses.extended_of(resolved.status)  # to be verified on site, or to be rated
    assert OutboxMessage.objects.filter(channel="open311").count() == 2  # dispatching is not sent back
    assert outbox.send_due() == {"sent": 2, "retry": 0, "failed": 0}
    updates = city.updates_of(numbers[0])
    assert [status for status, _text, _id in updates] == ["in_progress", after_result]
    assert "已安排电工今天下午到场" in updates[0][1]
    assert "已更换灯泡，路灯恢复照明" in updates[1][1]
    keys = set(OutboxMessage.objects.filter(channel="open311").values_list("key", flat=True))
    assert {update_id for _s, _t, update_id in updates} == keys
    published = city.public_updates(numbers[0])
    assert any("已更换灯泡" in u["description"] for u in published)

    # The city is down: the update waits in the outbox and is sent once when it is back.
    city.stop()
    case_services.dispatch(users.dispatcher, number=links[numbers[1]].number, unit_code="ZHZF")
    case_services.return_case(users.handler, number=links[numbers[1]].number, reason="健身器材归属物业，不属本单位")
    rubbish = links[numbers[2]].number
    case_services.dispatch(users.dispatcher, number=rubbish, unit_code="ZHZF")
    case_services.respond(users.handler, number=rubbish)
    case_services.add_note(users.handler, number=rubbish, note="已联系环卫所，明早清运")
    first_try = timezone.now()
    assert outbox.send_due(now=first_try)["retry"] == 3
    waiting = OutboxMessage.objects.filter(channel="open311", state=OutboxMessage.State.QUEUED)
    assert waiting.count() == 3
    assert all("无法连接上级平台" in m.last_answer for m in waiting)
    assert city.updates_of(numbers[1]) == []

    city.start()
    later = first_try + dt.timedelta(minutes=5)
    assert outbox.send_due(now=later) == {"sent": 3, "retry": 0, "failed": 0}
    assert outbox.send_due(now=later + dt.timedelta(hours=1)) == {"sent": 0, "retry": 0, "failed": 0}
    returned = city.updates_of(numbers[1])
    assert [status for status, _t, _i in returned] == ["internal_referral"]
    assert "健身器材归属物业" in returned[0][1]
    noted = city.updates_of(numbers[2])
    assert [s for s, _t, _i in noted] == ["in_progress", "in_progress"]
    assert "已联系环卫所，明早清运" in noted[1][1]
    assert len(city.updates_of(numbers[0])) == 2  # nothing sent twice
