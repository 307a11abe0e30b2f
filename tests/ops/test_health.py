"""/healthz, /metrics and jiedao check, as the people who run the installation see them."""

import datetime as dt
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from jiedao.ops import services
from jiedao.ops.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_with_a_live_worker_degraded_without_and_fails_when_the_disk_is_full(client, settings):
    report = client.get("/healthz").json()
    assert report["status"] == "degraded"  # the worker was never seen: the site still serves
    assert report["checks"]["database"]["ok"] and report["checks"]["worker"]["seen_seconds_ago"] is None

    services.beat()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"

    Heartbeat.objects.update(seen_at=timezone.now() - dt.timedelta(minutes=10))
    report = client.get("/healthz").json()
    assert report["status"] == "degraded" and report["checks"]["worker"]["seen_seconds_ago"] >= 600

    settings.JIEDAO = dict(settings.JIEDAO, DISK_MIN_FREE_BYTES=1 << 60)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["checks"]["disk"]["ok"] is False


def test_healthz_answers_503_when_the_database_is_gone(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "connection refused"}


def _value(text, name, **labels):
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_requests_by_route_and_read_cases_from_the_database(client, street, make_case):
    make_case()
    make_case()
    text = client.get("/metrics").content.decode()
    assert _value(text, "jiedao_cases_open") == 2
    assert _value(text, "jiedao_cases_overdue") == 0
    before = _value(text, "jiedao_http_requests_total", route="web:portal", status="200") or 0
    client.get("/portal/")
    client.get("/portal/")
    text = client.get("/metrics").content.decode()
    assert _value(text, "jiedao_http_requests_total", route="web:portal", status="200") == before + 2
    assert re.search(r'jiedao_http_request_seconds_bucket\{le="0.5",method="GET",route="web:portal"\}', text)
    assert _value(text, "jiedao_worker_heartbeat_age_seconds") == -1


def test_metrics_are_refused_to_other_machines_unless_they_bring_the_token(client, monkeypatch):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    monkeypatch.setenv("JIEDAO_METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics").status_code == 403  # with a token set, even this machine needs it
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200 and b"jiedao_cases_open" in ok.content


def test_behind_the_proxy_metrics_and_the_request_log_see_the_clients_own_address(client, settings, caplog):
    settings.NINJA_NUM_PROXIES = 1  # JIEDAO_PROXY_COUNT=1: nginx on this machine appends the client
    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert outside.status_code == 403  # came through the proxy from elsewhere
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200  # Prometheus on this machine
    caplog.set_level("INFO", logger="jiedao.request")
    client.get("/healthz", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4, 203.0.113.9")
    assert [r.client for r in caplog.records if r.name == "jiedao.request"] == ["203.0.113.9"]


def test_check_names_each_problem_in_plain_words_and_fails(settings, capsys, tmp_path):
    settings.JIEDAO = dict(settings.JIEDAO, BACKUP_DIR=str(tmp_path / "none"))
    settings.SECRET_KEY = settings.DEMO_SECRET_KEY  # set by hand from an old env file
    with pytest.raises(CommandError) as failed:
        call_command("check")
    assert failed.value.returncode == 1
    err = capsys.readouterr().err
    assert "jiedao.E001" in err and "JIEDAO_SECRET_KEY" in err  # the demo secret key
    assert "从未运行过" in err  # no worker heartbeat
    assert "还没有任何备份" in err
    assert "security.W004" in err  # Django's own deployment checks are included


@pytest.mark.django_db(transaction=True)
def test_check_passes_when_the_installation_is_ready(settings, capsys, tmp_path, monkeypatch):
    import secrets

    from django.utils import timezone as tz

    from jiedao.ops import backup
    from jiedao.workcal import calendar
    from jiedao.workcal.models import CalendarYear

    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # set by the browser tests in this process
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    this_year = tz.localdate().year
    for year in (this_year, this_year + 1):  # the State Council's notices, as entered by an administrator
        if not calendar.year_is_known(year):
            CalendarYear.objects.create(year=year, notice="国办发明电（测试）")
    calendar.invalidate()
    settings.DATA_DIR = tmp_path  # owner-only, as a new installation makes it (var/ may be older)
    settings.KEY_DIR = tmp_path / "keys"
    settings.FIELD_ENCRYPTION_KEY = settings.BLIND_INDEX_KEY = "configured-in-the-environment"
    settings.JIEDAO = dict(settings.JIEDAO, BACKUP_DIR=str(tmp_path / "backups"))
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    services.beat()
    backup.take_backup()
    call_command("check")
    assert "检查通过" in capsys.readouterr().out


def test_while_the_database_is_away_pages_and_api_answer_503_with_a_plain_message(client, street, monkeypatch):
    from django.db import OperationalError

    from jiedao.cases import selectors as case_selectors
    from tests.factories import PASSWORD

    client.login(username=street.users.handler.username, password=PASSWORD)

    def gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(case_selectors, "case_list", gone)  # the API's list
    monkeypatch.setattr(case_selectors, "unit_cases", gone)  # the workbench's
    monkeypatch.setattr(connection, "is_usable", lambda: False)  # the connection is gone too
    monkeypatch.setattr(connection, "close", lambda: None)  # (the test's own transaction stays)
    api = client.get("/api/v1/cases")
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert "请稍后再试" in api.json()["errors"][0]["message"]
    page = client.get("/cases/workbench/")
    assert page.status_code == 503 and "尚未提交" in page.content.decode()


def test_a_database_error_of_one_request_is_not_taken_for_an_outage(client, street, monkeypatch):
    from django.db import OperationalError

    from jiedao.cases import selectors as case_selectors
    from tests.factories import PASSWORD

    client.login(username=street.users.handler.username, password=PASSWORD)

    def too_big(*args, **kwargs):
        raise OperationalError("index row size exceeds maximum")

    monkeypatch.setattr(case_selectors, "case_list", too_big)
    client.raise_request_exception = False
    assert client.get("/api/v1/cases").status_code == 500  # a bug to fix, not "try again later"
    assert client.get("/healthz").json()["checks"]["database"]["ok"]
