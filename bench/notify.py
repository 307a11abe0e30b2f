#!/usr/bin/env python3
"""Outbox benchmark: messages per second through the real worker to a slow, flaky SMS gateway,
each message accepted exactly once, also when the worker is killed mid-way.

    .venv/bin/python bench/notify.py                          # SQLite, 3 runs of 3,000 messages
    .venv/bin/python bench/notify.py --kill-after 10          # SIGKILL the worker after 10 s
    .venv/bin/python bench/notify.py --db postgres            # in a throw-away PostgreSQL cluster

For each run the script

1. starts a local SMS gateway speaking the generic HTTP SMS gateway protocol (the channel
   ``sms_http``: a form POST with ``mobile``, ``content`` and ``msgid``, the message's key; the
   answer ``{"code": 0, "msgid": …}``) in a ``ThreadingHTTPServer``: every call takes
   ``--delay`` (200 ms) and ``--fail`` (10 %) of the calls, drawn from a seeded random
   generator, answer HTTP 503 "busy", which the channel retries. It counts the keys it
   accepted. A key sent again after it was accepted (a message the worker had in flight when
   it was killed: the gateway took it, the answer never reached the database) is answered as
   accepted and not delivered again, as a gateway that keeps the request ids does — the key is
   the same on every attempt — and counted as "sent again after acceptance"; with
   ``--no-dedup`` the gateway keeps no ids and such a key is delivered twice (a duplicate);
2. writes ``--messages`` queued outbox rows for the channel directly (``OutboxMessage``
   rows in one transaction, as ``notify()`` writes them, without the notifications: the
   bench measures the sender, not the writer);
3. starts the real worker (``jiedao worker``) on the data directory, with the gateway's
   address in ``JIEDAO_SMS_HTTP_*``, a retry wait of ``--backoff`` seconds (the product's
   default is a minute) and a lease of ``--lease`` seconds, and waits until every key is
   accepted; with ``--kill-after`` it kills the worker (SIGKILL) after that many seconds and
   starts another, which takes up the dead one's messages when their lease runs out;
4. stops the worker and prints messages/s (from the first call to the gateway to the last
   key accepted), the delivery latency of the messages (queued → accepted, from the rows'
   ``created_at`` and ``sent_at``, as ``/metrics`` reports it; all rows are queued at once,
   so it is the time to drain the queue more than a single message's), the gateway's calls,
   refusals, losses (rows not accepted) and duplicates.

PostgreSQL runs in a throw-away cluster (scripts/pg-throwaway.sh --bench), removed
afterwards. Figures: bench/README.md, section ``notify.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
HOST = "127.0.0.1"

SETUP_SCRIPT = """
import json
import sys
import django
django.setup()
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from jiedao.messaging.models import OutboxAttempt, OutboxMessage
from jiedao.messaging.outbox import new_key

count = int(sys.argv[1])
with transaction.atomic():
    OutboxAttempt.objects.all().delete()
    OutboxMessage.objects.all().delete()
    DBTaskResult.objects.all().delete()
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                channel="sms_http",
                address="1380013%04d" % (n % 10000),
                subject="督办提醒",
                text="【示范街道】督办提醒：请于今日内答复第 %d 号督办事项。" % (n + 1),
                key=new_key(),
                kind="supervise",
                state=OutboxMessage.State.QUEUED,
                next_attempt_at=now,
                created_at=now,
            )
            for n in range(count)
        ],
        batch_size=500,
    )
print(json.dumps(list(OutboxMessage.objects.values_list("key", flat=True))))
"""

REPORT_SCRIPT = """
import json
import django
django.setup()
from django.db.models import Count
from jiedao.messaging.models import OutboxAttempt, OutboxMessage

rows = OutboxMessage.objects.values_list("state", "created_at", "sent_at", "attempts")
latencies = sorted((s - c).total_seconds() for _st, c, s, _a in rows if s)
print(json.dumps({
    "states": dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n")),
    "latencies": latencies,
    "attempts": OutboxAttempt.objects.count(),
    "successes": OutboxAttempt.objects.filter(ok=True).count(),
}))
"""


def log(message: str) -> None:
    print(message, flush=True)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


# --- the gateway ------------------------------------------------------------------------------


class Gateway:
    """The SMS gateway: slow, failing a share of calls, counting what it accepted by key."""

    def __init__(self, *, delay: float, fail: float, seed: int, dedup: bool) -> None:
        self.delay, self.fail, self.dedup = delay, fail, dedup
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: dict[str, float] = {}  # key → when it was first accepted
        self.repeats: dict[str, int] = {}  # key → calls after it had been accepted
        self.calls = self.refused = 0
        self.first_call: float | None = None
        self.all_accepted = threading.Event()
        self.expected = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
                status, answer = gateway.answer(fields)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the worker was killed while waiting
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://{HOST}:{self.server.server_address[1]}/sms/send"

    def answer(self, fields: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            self.calls += 1
            if self.first_call is None:
                self.first_call = time.monotonic()
            refuse = self.random.random() < self.fail
        time.sleep(self.delay)
        key = fields.get("msgid", "")
        if refuse:
            with self.lock:
                self.refused += 1
            return 503, {"code": 500, "msg": "系统忙，请稍后再试"}
        with self.lock:
            if key in self.accepted:
                self.repeats[key] = self.repeats.get(key, 0) + 1
                if self.dedup:  # the id is known: answered as accepted, not delivered again
                    return 200, {"code": 0, "msg": "重复的请求编号，已忽略", "msgid": f"G-{key}"}
            else:
                self.accepted[key] = time.monotonic()
                if len(self.accepted) >= self.expected:
                    self.all_accepted.set()
        return 200, {"code": 0, "msg": "提交成功", "msgid": f"G-{key}"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the product --------------------------------------------------------------------------------


def django_env(data_dir: Path, database_url: str | None, gateway_url: str, opts: argparse.Namespace) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiedao.settings",
            "JIEDAO_DATA_DIR": str(data_dir),
            "JIEDAO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "JIEDAO_LOG_LEVEL": "ERROR",
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")]),
            "JIEDAO_SMS_HTTP_URL": gateway_url,
            "JIEDAO_SMS_HTTP_METHOD": "POST",
            "JIEDAO_SMS_HTTP_BODY": "mobile={phone}&content={text}&msgid={key}",
            "JIEDAO_SMS_HTTP_CONTENT_TYPE": "form",
            "JIEDAO_SMS_HTTP_SUCCESS": "code=0",
            "JIEDAO_SMS_HTTP_ID_FIELD": "msgid",
            "JIEDAO_SMS_HTTP_TIMEOUT": "10",
            "JIEDAO_OUTBOX_BACKOFF_SECONDS": str(opts.backoff),
            "JIEDAO_OUTBOX_LEASE_SECONDS": str(opts.lease),
            "JIEDAO_OUTBOX_CONCURRENCY": str(opts.concurrency),
        }
    )
    env.pop("JIEDAO_DEBUG", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def run(cmd: list[str], env: dict, timeout: float = 600) -> str:
    result = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return result.stdout


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(VENV_BIN / "jiedao"), "worker"],
        env=env,
        cwd=REPO,
        stdout=open(log_path, "a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_run(n: int, opts: argparse.Namespace, data_dir: Path, database_url: str | None) -> dict:
    gateway = Gateway(delay=opts.delay, fail=opts.fail, seed=opts.seed + n, dedup=not opts.no_dedup)
    try:
        env = django_env(data_dir, database_url, gateway.url, opts)
        keys = set(json.loads(run([PYTHON, "-c", SETUP_SCRIPT, str(opts.messages)], env).strip().splitlines()[-1]))
        gateway.expected = len(keys)
        log_path = data_dir / "worker.log"
        started = time.monotonic()
        worker = start_worker(env, log_path)
        kills = 0
        try:
            if opts.kill_after and not gateway.all_accepted.wait(opts.kill_after):
                os.killpg(worker.pid, signal.SIGKILL)  # the worker and nothing of ours
                worker.wait()
                kills = 1
                log(f"    worker killed (SIGKILL) after {opts.kill_after:g} s, {len(gateway.accepted)} accepted")
                worker = start_worker(env, log_path)
            if not gateway.all_accepted.wait(opts.timeout):
                log(f"    not every message was accepted within {opts.timeout:g} s")
        finally:
            stop_worker(worker)
        report = json.loads(run([PYTHON, "-c", REPORT_SCRIPT], env).strip().splitlines()[-1])
        last = max(gateway.accepted.values()) if gateway.accepted else started
        first = gateway.first_call or started
        accepted = set(gateway.accepted)
        result = {
            "messages": len(keys),
            "rate": len(accepted & keys) / max(last - first, 1e-9),
            "wall": last - started,
            "calls": gateway.calls,
            "refused": gateway.refused,
            "lost": len(keys - accepted),
            "unknown": len(accepted - keys),
            "repeats": sum(gateway.repeats.values()),
            "duplicates": 0 if gateway.dedup else sum(gateway.repeats.values()),
            "kills": kills,
            "latencies": report["latencies"],
            "states": report["states"],
            "attempts": report["attempts"],
        }
        return result
    finally:
        gateway.close()


def bench(opts: argparse.Namespace, database_url: str | None, label: str) -> None:
    with tempfile.TemporaryDirectory(prefix="jiedao-bench-notify-") as tmp:
        data_dir = Path(tmp)
        env = django_env(data_dir, database_url, "http://127.0.0.1:9/", opts)
        run([str(VENV_BIN / "jiedao"), "migrate", "--noinput", "-v", "0"], env)
        rates = []
        log(
            f"{label}: {opts.messages} messages, gateway {opts.delay * 1000:g} ms per call, "
            f"{opts.fail:.0%} refused, OUTBOX_CONCURRENCY={opts.concurrency}"
        )
        bad = False
        for n in range(opts.runs):
            r = one_run(n, opts, data_dir, database_url)
            lat = r["latencies"]
            rates.append(r["rate"])
            log(
                f"  run {n + 1}: {r['rate']:.1f} messages/s ({r['wall']:.1f} s from the worker's start), "
                f"latency p50 {percentile(lat, 50):.1f} s p99 {percentile(lat, 99):.1f} s; "
                f"gateway calls {r['calls']}, refused {r['refused']}; "
                f"lost {r['lost']}, delivered twice {r['duplicates']}, "
                f"sent again after acceptance {r['repeats']}"
                + (" (dropped by key)" if not opts.no_dedup and r["repeats"] else "")
                + f", rows {r['states']}"
                + (f", worker killed {r['kills']}×" if opts.kill_after else "")
            )
            bad = bad or r["lost"] > 0 or r["unknown"] > 0 or r["duplicates"] > 0
        log(f"{label}: median {statistics.median(rates):.1f} messages/s over {opts.runs} run(s)")
        if bad:
            log(f"{label}: LOSSES OR DUPLICATES (see above)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite", help="sqlite (default), postgres or sqlite,postgres")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per gateway call (0.2)")
    parser.add_argument("--fail", type=float, default=0.1, help="share of calls refused as busy (0.1)")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16, help="JIEDAO_OUTBOX_CONCURRENCY (16)")
    parser.add_argument("--backoff", type=float, default=1.0, help="JIEDAO_OUTBOX_BACKOFF_SECONDS (1)")
    parser.add_argument("--lease", type=float, default=10.0, help="JIEDAO_OUTBOX_LEASE_SECONDS (10)")
    parser.add_argument("--kill-after", type=float, default=0.0, help="SIGKILL the worker after this many seconds")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up waiting after this many seconds")
    parser.add_argument(
        "--no-dedup", action="store_true", help="the gateway keeps no ids: a key sent again is delivered again"
    )
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    log(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    if opts.inside:  # inside pg-throwaway.sh: DATABASE_URL points at the cluster
        bench(opts, os.environ["DATABASE_URL"], "PostgreSQL")
        return 0
    for db in opts.db.split(","):
        if db == "sqlite":
            bench(opts, None, "SQLite")
        elif db == "postgres":
            args = list(argv if argv is not None else sys.argv[1:])
            subprocess.run(
                [str(REPO / "scripts" / "pg-throwaway.sh"), "--bench", "--", PYTHON, __file__, *args, "--inside"],
                cwd=REPO,
                check=True,
            )
        else:
            raise SystemExit(f"unknown database: {db}")
    log(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
