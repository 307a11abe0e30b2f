"""The real ``jiedao worker`` as an operator starts it: against an SQLite file, it turns an
overdue case red on its own, records its heartbeat, and stops cleanly on SIGTERM."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

SETUP = """
import datetime as dt
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.utils import timezone
from jiedao.cases import services
from tests.factories import build_street

street = build_street()
case, _ = services.submit_case(
    street.users.operator, channel="12345", description="路灯坏了半个月没人修", reporter_phone="13800138000",
    lat=39.905, lng=116.405, category_code="010101", dispatch=True,
    at=timezone.now() - dt.timedelta(days=20))
print(case.number)
"""


def urgency(db_path, number):
    with sqlite3.connect(db_path, timeout=10) as db:
        row = db.execute("SELECT urgency FROM cases_case WHERE number = ?", (number,)).fetchone()
    return row[0] if row else None


def test_worker_turns_an_overdue_case_red_and_stops_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JIEDAO_TASK_BACKEND")}
    env.update({"JIEDAO_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "jiedao.settings", "PYTHONPATH": str(REPO)})
    subprocess.run([str(BIN / "jiedao"), "migrate", "-v", "0"], env=env, check=True, timeout=300)
    made = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=REPO, check=True, timeout=120, capture_output=True, text=True
    )
    number = made.stdout.strip().splitlines()[-1]
    db_path = tmp_path / "jiedao.sqlite3"
    assert urgency(db_path, number) == "green"

    log = open(tmp_path / "worker.log", "w+")
    worker = subprocess.Popen(
        [str(BIN / "jiedao"), "worker", "--interval", "1"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and urgency(db_path, number) != "red":
            assert worker.poll() is None, "the worker stopped by itself"
            time.sleep(0.2)
        assert urgency(db_path, number) == "red"
        # It says it is alive, for /healthz and `jiedao check`.
        with sqlite3.connect(db_path, timeout=10) as db:
            assert db.execute("SELECT pid FROM ops_heartbeat WHERE name = 'worker'").fetchone() == (worker.pid,)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    log.seek(0)
    output = log.read()
    log.close()
    assert "新超期(红) 1 件" in output
    assert "SIGTERM" in output and "已停止" in output
