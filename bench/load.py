#!/usr/bin/env python3
"""Sustained mixed load through the real server, optionally killing it (and the worker) with
SIGKILL in the middle, then proving by counting that nothing was lost or duplicated.

    .venv/bin/python bench/load.py                          # SQLite, 60 s, 6 clients, no faults
    .venv/bin/python bench/load.py --seconds 60 --kill-at 20 --kill-at 40
    DATABASE_URL=postgres://… .venv/bin/python bench/load.py --db postgres
    scripts/pg-throwaway.sh --bench -- .venv/bin/python bench/load.py --db postgres --restart-db-at 30

Each client runs whole cases through their loop over the REST API, as the people would:
the operator registers a case (``POST /api/v1/cases`` with an ``Idempotency-Key``, routed
and dispatched at once), the unit's handler responds and resolves it, the operator's
call-back rates it; in between the dispatcher reads the case list and a case's timeline and
the leader the cockpit's live counters;
then a water-level gauge posts a reading (the same batch again after a lost answer: the
server knows a reading by device, time, metric and event) and a resident gives another
resident one point (``POST /api/v1/participation/points/transfers`` with an
``Idempotency-Key``).
A request that fails because the server is gone (connection refused or reset, or a 5xx
answer) is sent again, with the same idempotency key, until it is answered; an action
answered 409 after such a retry is checked against the case's state (it was applied before
the crash).

With ``--kill-at T`` the server's whole process group and the worker get SIGKILL T seconds
in, and are started again a second later. With ``--restart-db-at T`` (PostgreSQL in the
throw-away cluster of scripts/pg-throwaway.sh) the database server is restarted instead:
requests answer 503 while it is away and the server and worker reconnect by themselves. At the end the script counts, in the database:
every registered case exactly once (one per idempotency key the clients used), one create,
dispatch, respond and resolve event per case, one rating per rated case, no event
written twice, every reading sent stored once, one posting per point transfer made and
both residents' balances exactly what the transfers add up to. It prints throughput and latencies per kind of request, the errors seen
(only connection errors inside the kill windows are allowed) and the verdict.

``run_load`` is also what the short fault test of the suite calls (tests/infra/test_load_faults.py).
"""

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from intake import (
    HOST,
    PYTHON,
    REPO,
    VENV_BIN,
    Server,
    django_env,
    free_port,
    log,
    percentile,
    request,
    run,
)

SETUP_SCRIPT = """
import json
import django
django.setup()
from jiedao.emergency import services as emergency
from jiedao.org.models import Grid, Unit
from jiedao.participation import services as participation
from tests.factories import PASSWORD, build_street, make_user
street = build_street()
for unit in Unit.objects.filter(members__isnull=True):
    make_user(f"handler_{unit.code.lower()}", "handler", unit=unit)
street.users.grid.grids.set(Grid.objects.all())  # one grid worker verifies on site everywhere
# A water-level gauge posting readings, and two residents of one community giving points.
_device, token = emergency.register_device(None, code="LOAD-WL", name="负载测试水位计", kind="water_level",
                                           _system=True)
for user in (street.users.resident, street.users.resident_other):
    participation.join_community(user, user=user, community=street.communities[0])
participation.issue(street.users.resident, points=1000000, reason="负载测试初始积分")
print(json.dumps({"password": PASSWORD, "device_token": token}))
"""

START_POINTS = 1000000

CATEGORIES = ["010101", "010102", "010201", "020101"]
POINTS = [(39.905, 116.405), (39.905, 116.415), (39.915, 116.405), (39.915, 116.415)]
RETRY_PAUSE = 0.2
GIVE_UP_AFTER = 90.0  # seconds a single request may keep failing before the run is declared broken


class Broken(Exception):
    pass


class Api:
    """One client's keep-alive connection, with retries across server deaths."""

    def __init__(self, port, stats, kill_windows):
        self.port, self.stats, self.kill_windows = port, stats, kill_windows
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)

    def call(self, kind, method, path, token, body=None, idempotency_key=None, ok=(200, 201)):
        started = time.monotonic()
        retried = False
        while True:
            if self.conn is None:
                self._connect()
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            if idempotency_key:
                headers["Idempotency-Key"] = idempotency_key
            try:
                self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
                response = self.conn.getresponse()
                status, data = response.status, response.read()
            except (OSError, http.client.HTTPException) as error:
                self.conn.close()
                self.conn = None
                self.stats.error(kind, type(error).__name__, time.monotonic())
                status, data = None, b""
            if status is not None and status < 500:
                self.stats.done(kind, time.monotonic() - started, status)
                return status, (json.loads(data) if data else None), retried
            if status is not None:
                self.stats.error(kind, f"HTTP {status}", time.monotonic())
            if time.monotonic() - started > GIVE_UP_AFTER:
                raise Broken(f"{kind} {path}: no answer for {GIVE_UP_AFTER:.0f} s")
            retried = True
            time.sleep(RETRY_PAUSE)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {}
        self.statuses = {}
        self.errors = []

    def done(self, kind, seconds, status):
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            self.statuses.setdefault(kind, {}).setdefault(status, 0)
            self.statuses[kind][status] += 1

    def error(self, kind, what, at):
        with self.lock:
            self.errors.append((kind, what, at))


def client(index, port, tokens, handlers, stop_at, stats, kill_windows, ledger, failures):
    rng = random.Random(index)
    api = Api(port, stats, kill_windows)
    n = 0
    try:
        while time.monotonic() < stop_at:
            n += 1
            key = f"load-{index}-{n}"
            lat, lng = rng.choice(POINTS)
            body = {
                "channel": "12345",
                "description": f"负载测试第{index}-{n}件：楼道灯不亮，晚上看不见路",
                "reporter_phone": "13800138000",
                "lat": lat,
                "lng": lng,
                "category": rng.choice(CATEGORIES),
                "dispatch": True,
            }
            status, case, _ = api.call("intake", "POST", "/api/v1/cases", tokens["operator"], body, idempotency_key=key)
            if status not in (200, 201):
                raise Broken(f"intake answered {status}: {case}")
            number, unit = case["number"], (case.get("unit") or {}).get("code")
            ledger.registered(key, number)
            api.call("list", "GET", "/api/v1/cases?limit=20", tokens["dispatcher"])
            api.call("cockpit", "GET", "/api/v1/cockpit/live", tokens["leader"])
            handler = tokens.get(handlers.get(unit))
            if handler is None:
                continue
            for action, payload in (
                ("respond", {"note": "已联系居民"}),
                ("resolve", {"result": "已于今日更换灯泡，居民确认恢复照明。"}),
            ):
                if not _act(api, handler, number, action, payload):
                    raise Broken(f"{action} of {number} was refused")
            api.call("read", "GET", f"/api/v1/cases/{number}/events", tokens["dispatcher"])
            state = api.call("read", "GET", f"/api/v1/cases/{number}", tokens["operator"])[1]["status"]
            verified = {"note": "现场核查属实", "reason": "已电话联系居民核实"}
            if state == "verifying" and not _act(api, tokens["grid"], number, "verify_pass", verified):
                continue
            if _act(api, tokens["operator"], number, "rate", {"resolved": True, "satisfaction": "satisfied"}):
                ledger.rated(number)
            # A gauge's reading (sent again as it is after a lost answer) and a resident's gift
            # of points (with its idempotency key).
            at = ledger.base + dt.timedelta(milliseconds=n * 100 + index)
            reading = {
                "device": "LOAD-WL",
                "token": tokens["device"],
                "at": at.isoformat(),
                "metric": "level",
                "value": round(rng.uniform(0.05, 0.2), 3),
            }
            status, _body, _retried = api.call(
                "reading", "POST", "/api/v1/sensors/readings", None, {"readings": [reading]}
            )
            if status != 200:
                raise Broken(f"reading answered {status}: {_body}")
            ledger.read(at)
            gift_key = f"gift-{index}-{n}"
            status, _body, _retried = api.call(
                "points",
                "POST",
                "/api/v1/participation/points/transfers",
                tokens["resident"],
                {"to": "resident2", "points": 1},
                idempotency_key=gift_key,
            )
            if status != 201:
                raise Broken(f"points transfer answered {status}: {_body}")
            ledger.gave(gift_key)
    except Broken as error:
        failures.append(str(error))


def _act(api, token, number, action, payload):
    """Take the action; a 409 after a retry means the first attempt was applied before the crash."""
    status, body, retried = api.call(action, "POST", f"/api/v1/cases/{number}/actions/{action}", token, payload)
    if status == 200:
        return True
    if status == 409 and retried:
        return True
    if status in (403, 409):
        return False
    raise Broken(f"{action} {number} answered {status}: {body}")


class Ledger:
    """What the clients were told: keys and their case numbers, cases rated."""

    def __init__(self):
        self.lock = threading.Lock()
        self.numbers = {}
        self.rated_numbers = set()
        self.readings = set()
        self.gifts = set()
        # Readings are dated from here on (the run's start), each client on its own milliseconds.
        self.base = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def read(self, at):
        with self.lock:
            self.readings.add(at)

    def gave(self, key):
        with self.lock:
            self.gifts.add(key)

    def registered(self, key, number):
        with self.lock:
            if key in self.numbers and self.numbers[key] != number:
                raise Broken(f"key {key} answered {self.numbers[key]} then {number}")
            self.numbers[key] = number

    def rated(self, number):
        with self.lock:
            self.rated_numbers.add(number)


COUNT_SCRIPT = """
import json
import django
django.setup()
from django.db.models import Count
from jiedao.cases.models import Case, CaseEvent, Rating
from jiedao.common.models import IdempotencyKey
from jiedao.emergency.models import Reading
from jiedao.org.models import User
from jiedao.participation.models import Account, Posting
numbers = json.loads(open(%(numbers)r).read())
cases = Case.objects.filter(number__in=numbers)
per_action = {}
for row in CaseEvent.objects.filter(case__in=cases).values("case_id", "action").annotate(n=Count("id")):
    per_action.setdefault(row["action"], []).append(row["n"])
print(json.dumps({
    "cases_total": Case.objects.count(),
    "cases_known": cases.count(),
    "keys": IdempotencyKey.objects.filter(scope="case").count(),
    "ratings": Rating.objects.filter(case__in=cases).count(),
    "rated_cases": Rating.objects.filter(case__in=cases).values("case").distinct().count(),
    "events_max_per_action": {a: max(v) for a, v in per_action.items()},
    "events_cases_per_action": {a: len(v) for a, v in per_action.items()},
    "readings": Reading.objects.filter(device__code="LOAD-WL").count(),
    "transfers": Posting.objects.filter(kind=Posting.Kind.TRANSFER).count(),
    "transfer_keys": IdempotencyKey.objects.filter(scope="points-transfer").count(),
    "balances": {name: Account.objects.get(user__username=name).balance for name in ("resident", "resident2")},
}))
"""


def _start_worker(env, data_dir, generation):
    log_file = open(Path(data_dir) / f"worker-{generation}.log", "w")
    proc = subprocess.Popen(
        [str(VENV_BIN / "jiedao"), "worker", "--interval", "2"],
        env=env,
        cwd=REPO,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, log_file


def _restart_database(out, engine, at):
    """Restart PostgreSQL (fast shutdown: open connections are cut) with the command the
    throw-away cluster script exports; the server and worker must find their way back."""
    command = os.environ.get("JIEDAO_PG_RESTART")
    if engine != "postgresql" or not command:
        raise SystemExit("--restart-db-at needs PostgreSQL started by scripts/pg-throwaway.sh (JIEDAO_PG_RESTART)")
    out(f"[{engine}] {at:g} s: restarting PostgreSQL …")
    began = time.monotonic()
    subprocess.run(command.split(), check=True, capture_output=True, timeout=120)
    out(f"[{engine}] PostgreSQL back after {time.monotonic() - began:.1f} s")


def _kill(proc):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def run_load(
    seconds=60.0,
    clients=6,
    kill_at=(),
    database_url=None,
    workers=2,
    threads=2,
    port=8700,
    out=log,
    keep=False,
    restart_db_at=(),
):
    """Drive the load; return the figures and the verification (see the module's docstring).
    The data directory (SQLite file, logs) is removed afterwards unless ``keep``."""
    engine = "postgresql" if database_url else "sqlite"
    data_dir = Path(tempfile.mkdtemp(prefix=f"jiedao-load-{engine}-"))
    # Eight roles sign in by script with their passwords; the second factor's cost is in
    # bench/intake.py, which signs in as staff do.
    env = django_env(data_dir, database_url, staff_second_factor=False)
    out(f"[{engine}] data in {data_dir}; migrating and building the test street …")
    run([str(VENV_BIN / "jiedao"), "migrate", "--noinput", "-v", "0"], env)
    setup = json.loads(run([PYTHON, "-c", SETUP_SCRIPT], env).strip().splitlines()[-1])
    password = setup["password"]
    port = free_port(port)
    server = Server(env, port, workers, threads)
    worker, worker_log = _start_worker(env, data_dir, 0)
    stats, ledger, failures, kill_windows = Stats(), Ledger(), [], []
    try:
        server.wait_ready()
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        tokens, handlers = {}, {}
        users = ["operator", "dispatcher", "grid", "handler", "handler_zj", "handler_jwh", "resident", "leader"]
        units = json.loads(
            run(
                [
                    PYTHON,
                    "-c",
                    (
                        "import django, json; django.setup(); from jiedao.org.models import User; "
                        "print(json.dumps({u.unit.code: u.username for u in User.objects.filter(unit__isnull=False)}))"
                    ),
                ],
                env,
            )
            .strip()
            .splitlines()[-1]
        )
        handlers.update(units)
        for username in set(users) | set(units.values()):
            status, body = request(conn, "POST", "/api/v1/auth/token", {"username": username, "password": password})
            if status != 200:
                raise SystemExit(f"token for {username}: {status} {body[:200]!r}")
            tokens[username] = json.loads(body)["token"]
        tokens["device"] = setup["device_token"]
        conn.close()
        out(
            f"[{engine}] server on {HOST}:{port} ({workers} processes × {threads} threads) and a worker; "
            f"{clients} clients for {seconds:.0f} s"
            + (f", SIGKILL at {', '.join(f'{t:g}' for t in kill_at)} s" if kill_at else "")
            + " …"
        )
        start = time.monotonic()
        stop_at = start + seconds
        threads_ = [
            threading.Thread(
                target=client,
                args=(i, port, tokens, handlers, stop_at, stats, kill_windows, ledger, failures),
                daemon=True,
            )
            for i in range(clients)
        ]
        for t in threads_:
            t.start()
        generation = 0
        events = sorted([(at, "kill") for at in kill_at] + [(at, "restart-db") for at in restart_db_at])
        for at, what in events:
            time.sleep(max(0.0, start + at - time.monotonic()))
            began = time.monotonic()
            if what == "restart-db":
                _restart_database(out, engine, at)
                kill_windows.append((began, time.monotonic()))
                continue
            _kill(server.proc)
            _kill(worker)
            worker_log.close()
            out(f"[{engine}] {at:g} s: server and worker killed (SIGKILL); restarting …")
            time.sleep(1.0)
            generation += 1
            server.log_file.close()
            server = Server(env, port, workers, threads)
            worker, worker_log = _start_worker(env, data_dir, generation)
            server.wait_ready()
            kill_windows.append((began, time.monotonic()))
            out(f"[{engine}] back after {time.monotonic() - began:.1f} s")
        for t in threads_:
            t.join(timeout=seconds + GIVE_UP_AFTER + 30)
        elapsed = time.monotonic() - start
    finally:
        server.stop()
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _kill(worker)
        worker_log.close()
    numbers_file = data_dir / "numbers.json"
    numbers_file.write_text(json.dumps(sorted(set(ledger.numbers.values()))))
    counts = json.loads(
        run([PYTHON, "-c", COUNT_SCRIPT % {"numbers": str(numbers_file)}], env).strip().splitlines()[-1]
    )
    result = _verdict(engine, stats, ledger, failures, kill_windows, counts, elapsed, data_dir)
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def _in_windows(at, windows):
    return any(began - 1.0 <= at <= ended + 1.0 for began, ended in windows)


def _verdict(engine, stats, ledger, failures, kill_windows, counts, elapsed, data_dir):
    unexpected = [e for e in stats.errors if not _in_windows(e[2], kill_windows)]
    problems = list(failures)
    keys, numbers = len(ledger.numbers), set(ledger.numbers.values())
    if len(numbers) != keys:
        problems.append(f"{keys} keys but {len(numbers)} distinct case numbers")
    if counts["cases_known"] != len(numbers):
        problems.append(f"clients were given {len(numbers)} cases, the database holds {counts['cases_known']}")
    if counts["cases_total"] != len(numbers):
        problems.append(f"the database holds {counts['cases_total']} cases, clients registered {len(numbers)}")
    if counts["keys"] != keys:
        problems.append(f"{counts['keys']} idempotency keys stored for {keys} used")
    doubled = {a: n for a, n in counts["events_max_per_action"].items() if n > 1}
    if doubled:
        problems.append(f"events written more than once for one case: {doubled}")
    if counts["ratings"] != len(ledger.rated_numbers) or counts["rated_cases"] != counts["ratings"]:
        problems.append(f"{counts['ratings']} ratings stored for {len(ledger.rated_numbers)} cases rated")
    if counts["readings"] != len(ledger.readings):
        problems.append(f"{counts['readings']} readings stored for {len(ledger.readings)} sent")
    gifts = len(ledger.gifts)
    if counts["transfers"] != gifts or counts["transfer_keys"] != gifts:
        problems.append(
            f"{counts['transfers']} point transfers posted ({counts['transfer_keys']} keys) for {gifts} made"
        )
    if counts["balances"] != {"resident": START_POINTS - gifts, "resident2": gifts}:
        problems.append(f"balances {counts['balances']} after {gifts} gifts of one point")
    if unexpected:
        problems.append(f"{len(unexpected)} errors outside the kill windows, e.g. {unexpected[:3]}")
    per_kind = {}
    for kind, values in stats.latencies.items():
        ordered = sorted(values)
        per_kind[kind] = {
            "n": len(values),
            "per_s": len(values) / elapsed,
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": percentile(ordered, 99) * 1000,
            "statuses": stats.statuses.get(kind, {}),
        }
    return {
        "engine": engine,
        "seconds": elapsed,
        "cases": len(numbers),
        "rated": len(ledger.rated_numbers),
        "readings": len(ledger.readings),
        "gifts": len(ledger.gifts),
        "requests": sum(len(v) for v in stats.latencies.values()),
        "per_kind": per_kind,
        "errors_in_kill_windows": len(stats.errors) - len(unexpected),
        "kills": len(kill_windows),
        "counts": counts,
        "problems": problems,
        "ok": not problems,
        "data_dir": str(data_dir),
    }


def report(result):
    log("")
    log(
        f"[{result['engine']}] {result['requests']} requests in {result['seconds']:.0f} s "
        f"({result['requests'] / result['seconds']:.1f}/s); {result['cases']} cases registered, "
        f"{result['rated']} rated, {result['readings']} readings, {result['gifts']} point transfers; "
        f"{result['kills']} kill(s) or database restart(s), "
        f"{result['errors_in_kill_windows']} failed attempts inside those windows (retried)"
    )
    log(f"{'request':<14}{'n':>7}{'per s':>9}{'p50 ms':>10}{'p99 ms':>10}  statuses")
    for kind, row in sorted(result["per_kind"].items()):
        log(
            f"{kind:<14}{row['n']:>7}{row['per_s']:>9.1f}{row['p50_ms']:>10.1f}{row['p99_ms']:>10.1f}  "
            f"{dict(sorted(row['statuses'].items()))}"
        )
    c = result["counts"]
    log(
        f"counted in the database: {c['cases_known']} cases ({c['cases_total']} in all), {c['keys']} idempotency "
        f"keys, {c['ratings']} ratings, {c['readings']} readings, {c['transfers']} point transfers "
        f"(balances {c['balances']}); most events of one action on one case: {c['events_max_per_action']}"
    )
    if result["ok"]:
        log("verdict: nothing lost, nothing duplicated, no error outside the kill windows")
    else:
        log("verdict: FAILED")
        for problem in result["problems"]:
            log(f"  - {problem}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument(
        "--kill-at",
        type=float,
        action="append",
        default=[],
        help="seconds into the run at which server and worker get SIGKILL (repeatable)",
    )
    parser.add_argument(
        "--restart-db-at",
        type=float,
        action="append",
        default=[],
        help="seconds into the run at which PostgreSQL is restarted (repeatable; needs scripts/pg-throwaway.sh)",
    )
    parser.add_argument(
        "--db", choices=["sqlite", "postgres"], default="sqlite", help="postgres: use DATABASE_URL (an empty database)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--keep", action="store_true", help="keep the data directory (database, logs)")
    opts = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL") if opts.db == "postgres" else None
    if opts.db == "postgres" and not url:
        raise SystemExit("--db postgres needs DATABASE_URL (an empty database)")
    result = run_load(
        opts.seconds,
        opts.clients,
        opts.kill_at,
        url,
        opts.workers,
        opts.threads,
        opts.port,
        keep=opts.keep,
        restart_db_at=opts.restart_db_at,
    )
    if opts.keep:
        log(f"kept {result['data_dir']}")
    report(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
