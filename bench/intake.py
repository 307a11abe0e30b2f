#!/usr/bin/env python3
"""Intake benchmark: cases per second through the real HTTP API, on SQLite and on
PostgreSQL, side by side with a baseline that writes the same rows with bare SQL.

    .venv/bin/python bench/intake.py                 # both databases, 60 s each
    .venv/bin/python bench/intake.py --seconds 20 --db sqlite

For each database the script

1. makes a fresh data directory, migrates it and builds the small test street
   (tests/factories.build_street: 2 communities, 4 grids, 4 units, routing rules);
2. starts the production server (``jiedao serve``: gunicorn, gthread workers) on
   127.0.0.1;
3. signs the operator in (POST /api/v1/auth/token) and has several client
   processes, each on one keep-alive connection, send POST /api/v1/cases with a
   category, a location and ``dispatch: true`` — so every case is located in its
   grid, routed by the rules, given its deadlines from the working calendar and
   logged (create and dispatch events) — until the time is up;
4. stops the server and runs the baseline: the same number of cases written with
   bare SQL through the database driver (sqlite3 / psycopg), one connection, one
   transaction per case holding the case row and its two events.

Before the first database and after the last, the same clients drive the framework floor
(``../shared/floor/``, or ``--floor DIR``): the least a Django + django-ninja endpoint can
do for the same request, served in the same shape (gunicorn, same processes and threads).
The product's cases/s divided by the floor's (the mean of its two runs) is the figure to
compare between machines; cases/s alone is not.

The operator signs in as staff do, with the password and the authenticator's code: every
check of the product runs as in production.

PostgreSQL runs in a throw-away cluster (scripts/pg-throwaway.sh --bench) that is
removed afterwards. See bench/README.md for how to read the output.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django_otp.oath import TOTP

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
HOST = "127.0.0.1"
WINDOW = 5.0  # seconds per throughput window
SERVER_START_TIMEOUT = 120.0

# Leaf categories of the test street and points inside its four grids (lng, lat squares
# of 0.01° from 116.40/39.90): a mix that hits community rules, category rules and the
# street's default unit.
CATEGORIES = ["010101", "010102", "010201", "020101"]
POINTS = [(39.905, 116.405), (39.905, 116.415), (39.915, 116.405), (39.915, 116.415)]
DESCRIPTIONS = [
    "小区门口垃圾桶满了两天没有清运，气味很大",
    "楼道路灯不亮，老人晚上上下楼不方便",
    "屋顶漏水，雨天墙面渗水严重，请尽快维修",
    "独居老人需要上门助餐服务，请社区协助联系",
]

SETUP_SCRIPT = """
import django
django.setup()
from django_otp.plugins.otp_totp.models import TOTPDevice
from jiedao.org.models import User
from tests.factories import build_street, PASSWORD
build_street()
# The operator's authenticator app: the bench signs in with its code, as staff do.
device = TOTPDevice.objects.create(user=User.objects.get(username="operator"), name="phone", confirmed=True)
print(device.key)
print(PASSWORD)
"""
FLOOR = REPO.parent / "shared" / "floor"


# --- helpers -------------------------------------------------------------------------


def log(message):
    print(message, flush=True)


def free_port(start):
    for port in range(start, start + 10):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {start}-{start + 9}")


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def windows_median(finish_times, start, seconds):
    """Median of cases/s over consecutive 5-second windows of the measured period."""
    n = max(1, int(seconds // WINDOW))
    counts = [0] * n
    for t in finish_times:
        i = int((t - start) // WINDOW)
        if 0 <= i < n:
            counts[i] += 1
    rates = [c / WINDOW for c in counts]
    return statistics.median(rates), rates


def django_env(data_dir, database_url, *, staff_second_factor=True):
    """The server's environment: production settings on ``data_dir``. Staff give a second factor
    as in production unless ``staff_second_factor`` is off (a script signing many people in)."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiedao.settings",
            "JIEDAO_DATA_DIR": str(data_dir),
            "JIEDAO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "JIEDAO_LOG_LEVEL": "ERROR",
            # This checkout's code, whatever the virtual environment has installed.
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")]),
        }
    )
    env.pop("JIEDAO_DEBUG", None)
    env.pop("JIEDAO_STAFF_2FA", None)  # the production default: staff give a second factor
    if not staff_second_factor:
        env["JIEDAO_STAFF_2FA"] = "0"
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def run(cmd, env, timeout=600):
    result = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return result.stdout


def request(conn, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


# --- the server ----------------------------------------------------------------------


class Server:
    def __init__(self, env, port, workers, threads):
        self.env, self.port = env, port
        cmd = [str(VENV_BIN / "jiedao"), "serve", "--host", HOST, "--port", str(port), "--threads", str(threads)]
        if workers:
            cmd += ["--workers", str(workers)]
        self.log_path = Path(env["JIEDAO_DATA_DIR"]) / "server.log"
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=REPO, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                status, _ = request(conn, "GET", "/api/v1/openapi.json")
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"server did not answer within {SERVER_START_TIMEOUT:.0f} s")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log_file.close()


def totp_now(hex_key):
    """The code the operator's authenticator app shows now (django-otp's own TOTP)."""
    return f"{TOTP(bytes.fromhex(hex_key)).token():06d}"


# --- the framework floor ----------------------------------------------------------------


def run_floor(opts, label):
    """The floor app of ``opts.floor`` served in the product's shape and driven by the same
    clients for the same time. Returns the clients' figures (as for the product)."""
    data_dir = Path(tempfile.mkdtemp(prefix="jiedao-bench-floor-"))
    env = dict(os.environ, FLOOR_DB=str(data_dir / "floor.sqlite3"), PYTHONPATH=str(opts.floor))
    try:
        subprocess.run([PYTHON, "-c", "import floorapp; floorapp.init()"], env=env, cwd=data_dir, check=True)
        port = free_port(opts.port + 20)
        cmd = [str(VENV_BIN / "gunicorn"), "floorapp:application", "-b", f"{HOST}:{port}"]
        cmd += ["-w", str(opts.workers or 2 * (os.cpu_count() or 1)), "--threads", str(opts.threads)]
        cmd += ["-k", "gthread", "--log-level", "warning"]
        proc = subprocess.Popen(cmd, env=env, cwd=data_dir, start_new_session=True)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while True:
                try:
                    conn = http.client.HTTPConnection(HOST, port, timeout=5)
                    status, body = request(conn, "POST", "/api/v1/auth/token", {"username": "x", "password": "y"})
                    conn.close()
                    if status != 200:
                        raise SystemExit(f"the floor's token request answered {status}: {body[:300]!r}")
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("the floor's server did not start") from None
                    time.sleep(0.3)
            token = json.loads(body)["token"]
            log(f"[floor, {label}] {opts.clients} clients for {opts.warmup:.0f} s warm-up + {opts.seconds:.0f} s …")
            return drive_api(port, token, opts.clients, opts.seconds, opts.warmup, server_pgid=proc.pid)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the clients ---------------------------------------------------------------------


def client_loop(args):
    """One client: one keep-alive connection, requests back to back until ``stop_at``.
    Returns ``([(finished_at, latency_s, status)], cpu_s)``: times on the shared monotonic
    clock, and the CPU time this client used from ``measure_from`` on."""
    index, port, token, start_at, measure_from, stop_at = args
    rng = random.Random(index)
    results = []
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    while time.monotonic() < start_at:
        time.sleep(0.001)
    n = 0
    cpu_from = None
    while True:
        now = time.monotonic()
        if cpu_from is None and now >= measure_from:
            cpu_from = time.process_time()
        if now >= stop_at:
            break
        k = rng.randrange(len(CATEGORIES))
        lat, lng = POINTS[rng.randrange(len(POINTS))]
        body = {
            "channel": "12345",
            "description": f"{DESCRIPTIONS[k]}（压测 {index}-{n}）",
            "reporter_phone": f"139{rng.randrange(10**8):08d}",
            "category": CATEGORIES[k],
            "lat": lat + rng.uniform(-0.004, 0.004),
            "lng": lng + rng.uniform(-0.004, 0.004),
            "dispatch": True,
        }
        n += 1
        t0 = time.monotonic()
        try:
            status, _ = request(conn, "POST", "/api/v1/cases", body, token)
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
        t1 = time.monotonic()
        results.append((t1, t1 - t0, status))
    conn.close()
    return results, time.process_time() - (cpu_from if cpu_from is not None else time.process_time())


# --- CPU accounting (Linux /proc), so that a busy machine can be read --------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stats():
    """(pid, ppid, pgrp, cpu ticks) of every live process."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2 :].split()  # fields from the 3rd (state) on
        # utime + stime, and cutime + cstime: the time of children it has reaped, so
        # that a PostgreSQL backend or a gunicorn worker that ends is still counted.
        yield int(entry), int(fields[1]), int(fields[2]), sum(int(v) for v in fields[11:15])


def group_cpu_seconds(pgid):
    """CPU time (user + system) used so far by the live processes of a process group."""
    return sum(ticks for _pid, _ppid, pgrp, ticks in _proc_stats() if pgrp == pgid) / TICK


def tree_cpu_seconds(root):
    """CPU time used so far by a process and its children (a PostgreSQL postmaster and its backends)."""
    return sum(ticks for pid, ppid, _pgrp, ticks in _proc_stats() if root in (pid, ppid)) / TICK


def postmaster_pid(url):
    """The pid of the PostgreSQL server behind ``url`` when it runs on this machine, else None."""
    try:
        import psycopg

        with psycopg.connect(url) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with open(f"/proc/{backend}/stat") as f:
            data = f.read()
        return int(data[data.rindex(")") + 2 :].split()[1])
    except Exception:
        return None


def machine_busy_seconds():
    """CPU time all cores spent on anything but idle and I/O wait since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


def _sample(server_pgid, db_pid):
    try:
        return (
            (group_cpu_seconds(server_pgid) if server_pgid else None),
            (tree_cpu_seconds(db_pid) if db_pid else None),
            machine_busy_seconds(),
        )
    except (OSError, ValueError, IndexError):
        return None, None, None


def _delta(a, b):
    return b - a if a is not None and b is not None else None


def lock_waits(url, until, interval=0.02):
    """Mean number of PostgreSQL sessions waiting for a lock (row or transaction), sampled
    until ``until``: how much the writers queue behind each other."""
    try:
        import psycopg

        samples = []
        with psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < until:
                samples.append(
                    conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0]
                )
                time.sleep(interval)
        return statistics.mean(samples) if samples else None
    except Exception:
        return None


def drive_api(port, token, clients, seconds, warmup, server_pgid=None, db_pid=None, database_url=None):
    start_at = time.monotonic() + 1.0  # let every process connect first
    measure_from = start_at + warmup
    stop_at = measure_from + seconds
    with mp.get_context("fork").Pool(clients) as pool:
        pending = pool.map_async(
            client_loop, [(i, port, token, start_at, measure_from, stop_at) for i in range(clients)]
        )
        time.sleep(max(0.0, measure_from - time.monotonic()))
        before = _sample(server_pgid, db_pid)
        waits = lock_waits(database_url, stop_at) if database_url else None
        time.sleep(max(0.0, stop_at - time.monotonic()))
        after = _sample(server_pgid, db_pid)
        parts = pending.get(timeout=seconds + warmup + 120)
    client_cpu = sum(cpu for _rows, cpu in parts)
    rows = [r for part, _cpu in parts for r in part if r[0] >= measure_from]
    ok = [r for r in rows if r[2] == 201]
    errors = {}
    for r in rows:
        if r[2] != 201:
            errors[r[2]] = errors.get(r[2], 0) + 1
    latencies = sorted(r[1] for r in ok)
    median_rate, rates = windows_median([r[0] for r in ok], measure_from, seconds)
    return {
        "cases": len(ok),
        "rate_median": median_rate,
        "rate_windows": rates,
        "rate_mean": len(ok) / seconds,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else None,
        "errors": sum(errors.values()),
        "errors_by_status": errors,
        # CPU seconds used during the measured period: by the server (every gunicorn
        # process), by the PostgreSQL server, by the load-generating clients, and by
        # the whole machine (the rest is other work sharing the CPUs).
        "cpu_server": _delta(before[0], after[0]),
        "cpu_database": _delta(before[1], after[1]),
        "cpu_clients": client_cpu,
        "cpu_machine": _delta(before[2], after[2]),
        "lock_waits": waits,
        "seconds": seconds,
    }


# --- the bare-SQL baseline -----------------------------------------------------------

BASE_CASE_COLUMNS = (
    "number",
    "channel",
    "status",
    "category_id",
    "description",
    "reporter_name",
    "reporter_phone",
    "reporter_phone_index",
    "address",
    "lat",
    "lng",
    "community_id",
    "grid_id",
    "unit_id",
    "routed_by",
    "dispatched_at",
    "response_due",
    "completion_due",
    "urgency",
    "supervised",
    "return_count",
    "rework_count",
    "extension_count",
    "created_by_id",
    "created_at",
    "updated_at",
)
BASE_EVENT_COLUMNS = (
    "case_id",
    "seq",
    "at",
    "actor_id",
    "actor_unit_id",
    "unit_id",
    "action",
    "from_status",
    "to_status",
    "note",
    "data",
)


def baseline_rows(lookup, n):
    """n cases as plain tuples, shaped like what the API stores (the personal data as a
    ciphertext of realistic length, computed once: encryption is the API's cost)."""
    import datetime as dt

    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    cipher_phone = "gAAAAA" + "x" * 94
    rows = []
    for i in range(n):
        k = rng.randrange(len(CATEGORIES))
        g = rng.randrange(len(POINTS))
        lat, lng = POINTS[g]
        case = (
            f"BS{i:013d}",
            "12345",
            "dispatched",
            lookup["category"][CATEGORIES[k]],
            DESCRIPTIONS[k],
            "",
            cipher_phone,
            f"{rng.getrandbits(256):064x}",
            "",
            lat,
            lng,
            lookup["community"][g],
            lookup["grid"][g],
            lookup["unit"],
            "派单规则 #1",
            now,
            now + dt.timedelta(hours=2),
            now + dt.timedelta(days=5),
            "green",
            False,
            0,
            0,
            0,
            lookup["operator"],
            now,
            now,
        )
        events = [
            (1, now, lookup["operator"], None, None, "create", "", "new", "", json.dumps({"channel": "12345"})),
            (
                2,
                now,
                lookup["operator"],
                None,
                lookup["unit"],
                "dispatch",
                "new",
                "dispatched",
                "",
                json.dumps({"unit": "X", "response_due": now.isoformat()}),
            ),
        ]
        rows.append((case, events))
    return rows


def _lookup(cur):
    cur.execute("SELECT code, id FROM cases_category")
    categories = dict(cur.fetchall())
    cur.execute("SELECT g.id, g.community_id FROM org_grid g ORDER BY g.code")
    grids = cur.fetchall()
    cur.execute("SELECT id FROM org_unit ORDER BY code LIMIT 1")
    unit = cur.fetchone()[0]
    cur.execute("SELECT id FROM org_user WHERE username = 'operator'")
    operator = cur.fetchone()[0]
    return {
        "category": categories,
        "grid": [g[0] for g in grids],
        "community": [g[1] for g in grids],
        "unit": unit,
        "operator": operator,
    }


def baseline_sqlite(path, n):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    cur = conn.cursor()
    rows = baseline_rows(_lookup(cur), n)
    case_sql = (
        f"INSERT INTO cases_case ({', '.join(BASE_CASE_COLUMNS)}) VALUES ({', '.join('?' * len(BASE_CASE_COLUMNS))})"
    )
    event_sql = (
        f"INSERT INTO cases_caseevent ({', '.join(BASE_EVENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(BASE_EVENT_COLUMNS))})"
    )

    def iso(v):  # Django keeps UTC datetimes in SQLite as naive ISO text
        return v.replace(tzinfo=None).isoformat(sep=" ") if hasattr(v, "isoformat") else v

    latencies = []
    t_start = time.monotonic()
    for case, events in rows:
        t0 = time.monotonic()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute(case_sql, tuple(iso(v) for v in case))
        case_id = cur.lastrowid
        for event in events:
            cur.execute(event_sql, (case_id, *tuple(iso(v) for v in event)))
        cur.execute("COMMIT")
        latencies.append(time.monotonic() - t0)
    elapsed = time.monotonic() - t_start
    conn.close()
    return _baseline_result(n, elapsed, latencies)


def baseline_postgres(url, n):
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            rows = baseline_rows(_lookup(cur), n)
        conn.commit()
        case_sql = (
            f"INSERT INTO cases_case ({', '.join(BASE_CASE_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(BASE_CASE_COLUMNS))}) RETURNING id"
        )
        event_sql = (
            f"INSERT INTO cases_caseevent ({', '.join(BASE_EVENT_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(BASE_EVENT_COLUMNS))})"
        )
        latencies = []
        t_start = time.monotonic()
        with conn.cursor() as cur:
            for case, events in rows:
                t0 = time.monotonic()
                with conn.transaction():
                    cur.execute(case_sql, case)
                    case_id = cur.fetchone()[0]
                    for event in events:
                        cur.execute(event_sql, (case_id, *event))
                latencies.append(time.monotonic() - t0)
        elapsed = time.monotonic() - t_start
    return _baseline_result(n, elapsed, latencies)


def _baseline_result(n, elapsed, latencies):
    latencies.sort()
    return {
        "cases": n,
        "seconds": elapsed,
        "rate": n / elapsed if elapsed else None,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
    }


# --- one database --------------------------------------------------------------------


def run_phase(opts, database_url):
    engine = "postgresql" if database_url else "sqlite"
    data_dir = Path(tempfile.mkdtemp(prefix=f"jiedao-bench-{engine}-"))
    try:
        env = django_env(data_dir, database_url)
        log(f"[{engine}] data in {data_dir}; migrating and building the test street …")
        run([str(VENV_BIN / "jiedao"), "migrate", "--noinput", "-v", "0"], env)
        device_key, password = run([PYTHON, "-c", SETUP_SCRIPT], env).strip().splitlines()[-2:]
        port = free_port(opts.port)
        load_before = os.getloadavg()[0]
        server = Server(env, port, opts.workers, opts.threads)
        try:
            server.wait_ready()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            sign_in = {"username": "operator", "password": password, "otp": totp_now(device_key)}
            status, body = request(conn, "POST", "/api/v1/auth/token", sign_in)
            conn.close()
            if status != 200:
                raise SystemExit(f"[{engine}] token request answered {status}: {body[:300]!r}")
            token = json.loads(body)["token"]
            log(
                f"[{engine}] server on {HOST}:{port}; {opts.clients} clients for "
                f"{opts.warmup:.0f} s warm-up + {opts.seconds:.0f} s …"
            )
            api = drive_api(
                port,
                token,
                opts.clients,
                opts.seconds,
                opts.warmup,
                server_pgid=server.proc.pid,
                db_pid=postmaster_pid(database_url) if database_url else None,
                database_url=database_url,
            )
        finally:
            server.stop()
        api["server"] = server_shape(server.log_path)
        n = max(api["cases"], 1)
        log(f"[{engine}] API: {api['cases']} cases; baseline: writing {n} cases with bare SQL …")
        if database_url:
            base = baseline_postgres(database_url, n)
        else:
            base = baseline_sqlite(str(data_dir / "jiedao.sqlite3"), n)
        return {"engine": engine, "api": api, "baseline": base, "load_before": load_before}
    finally:
        if opts.keep:
            log(f"[{engine}] kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def server_shape(log_path):
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    for line in text.splitlines():
        if "个进程" in line:
            return line.strip()
    return ""


def run_postgres(opts):
    out = Path(tempfile.mkstemp(prefix="jiedao-bench-pg-", suffix=".json")[1])
    try:
        cmd = [
            "bash",
            str(REPO / "scripts" / "pg-throwaway.sh"),
            "--bench",
            "--",
            PYTHON,
            str(Path(__file__).resolve()),
            "--phase-json",
            str(out),
            *phase_args(opts),
        ]
        budget = opts.seconds + opts.warmup + 900
        result = subprocess.run(cmd, cwd=REPO, timeout=budget)
        if result.returncode != 0:
            raise SystemExit("PostgreSQL phase failed")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def phase_args(opts):
    args = [
        "--seconds",
        str(opts.seconds),
        "--warmup",
        str(opts.warmup),
        "--clients",
        str(opts.clients),
        "--workers",
        str(opts.workers),
        "--threads",
        str(opts.threads),
        "--port",
        str(opts.port),
    ]
    if opts.keep:
        args.append("--keep")
    return args


# --- report --------------------------------------------------------------------------


def ms(v):
    return "-" if v is None else f"{v * 1000:.1f} ms"


def per_case(api, key):
    value = api.get(key)
    return "-" if value is None or not api["cases"] else f"{value / api['cases'] * 1000:.2f} ms"


def cores(api, key):
    value = api.get(key)
    return "-" if value is None else f"{value / api['seconds']:.2f}"


def report(results, opts, floors=()):
    log("")
    log(
        f"Intake through POST /api/v1/cases (dispatch=true), {opts.clients} clients, "
        f"{opts.seconds:.0f} s measured after {opts.warmup:.0f} s warm-up, {os.cpu_count()} CPU cores"
    )
    loads = [r.get("load_before") for r in results if r.get("load_before") is not None]
    if loads:
        log(
            "load average (1 min) before each run: "
            + ", ".join(f"{x:.2f}" for x in loads)
            + "  (well above 0 means other work shared the CPUs: the figures are low)"
        )
    header = f"{'':<28}" + "".join(f"{r['engine']:>18}" for r in results)
    log(header)
    log("-" * len(header))

    def row(label, fn):
        log(f"{label:<28}" + "".join(f"{fn(r):>18}" for r in results))

    row("server", lambda r: (r["api"].get("server") or "").split("（")[-1].split("，")[0][:17])
    row("API cases", lambda r: str(r["api"]["cases"]))
    row("API cases/s (median 5 s)", lambda r: f"{r['api']['rate_median']:.1f}")
    row("API cases/s (mean)", lambda r: f"{r['api']['rate_mean']:.1f}")
    row("API latency p50", lambda r: ms(r["api"]["p50"]))
    row("API latency p95", lambda r: ms(r["api"]["p95"]))
    row("API latency p99", lambda r: ms(r["api"]["p99"]))
    row("API latency max", lambda r: ms(r["api"]["max"]))
    row("API errors", lambda r: str(r["api"]["errors"]))
    row("server CPU per case", lambda r: per_case(r["api"], "cpu_server"))
    row("server CPU cores used", lambda r: cores(r["api"], "cpu_server"))
    row("PostgreSQL CPU per case", lambda r: per_case(r["api"], "cpu_database"))
    row(
        "PostgreSQL lock waiters",
        lambda r: "-" if r["api"].get("lock_waits") is None else f"{r['api']['lock_waits']:.2f}",
    )
    row("client CPU cores used", lambda r: cores(r["api"], "cpu_clients"))
    row("all CPU cores busy", lambda r: cores(r["api"], "cpu_machine"))
    row("bare SQL cases/s", lambda r: f"{r['baseline']['rate']:.1f}")
    row("bare SQL txn p50", lambda r: ms(r["baseline"]["p50"]))
    row("bare SQL txn p99", lambda r: ms(r["baseline"]["p99"]))
    row(
        "ratio API / bare SQL",
        lambda r: f"{r['api']['rate_median'] / r['baseline']['rate']:.3f}" if r["baseline"]["rate"] else "-",
    )
    log("")
    for r in results:
        if r["api"]["errors_by_status"]:
            log(f"{r['engine']}: errors by HTTP status (0 = connection error): {r['api']['errors_by_status']}")
        log(f"{r['engine']}: cases/s per 5 s window: " + " ".join(f"{x:.0f}" for x in r["api"]["rate_windows"]))
    log("")
    if not floors:
        log("no floor measured (--no-floor, or no floor at --floor): cases/s alone do not travel between machines")
        return
    floor = statistics.mean(f["rate_median"] for f in floors)
    log(
        "framework floor cases/s (median 5 s), before and after: "
        + ", ".join(f"{f['rate_median']:.1f}" for f in floors)
        + f"; p99 {', '.join(ms(f['p99']) for f in floors)}; server CPU per case "
        + ", ".join(per_case(f, "cpu_server") for f in floors)
    )
    ratios = {r["engine"]: r["api"]["rate_median"] / floor for r in results}
    log(
        "ratio to the floor (the figure to compare between machines): "
        + ", ".join(f"{engine} {ratio:.2f}×" for engine, ratio in ratios.items())
    )
    checks = []
    if "sqlite" in ratios:
        sqlite = next(r for r in results if r["engine"] == "sqlite")
        checks.append(ratios["sqlite"] >= 0.6 and (sqlite["api"]["p99"] or 1) <= 0.100)
    if "sqlite" in ratios and "postgresql" in ratios:
        checks.append(ratios["postgresql"] >= 0.8 * ratios["sqlite"])
    log(
        "target (SQLite ≥ 0.6× the floor with p99 ≤ 100 ms; PostgreSQL ≥ 0.8× SQLite): "
        + ("met" if checks and all(checks) else "NOT met")
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="Cases per second through the HTTP API vs bare SQL.")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured duration per database (60)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured warm-up before it (3)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes (8)")
    # On 2 cores, three single-threaded processes serve intake best: Python runs one
    # thread of a process at a time, and a thread waiting for the interpreter while it
    # holds the database's write lock (SQLite) or the day's counter row (PostgreSQL)
    # holds up every other writer. See bench/README.md for the shapes measured.
    parser.add_argument(
        "--workers", type=int, default=3, help="server processes (3; 0 for jiedao serve's default: 2 × CPU cores)"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per server process (1)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both (default)")
    parser.add_argument("--port", type=int, default=8150, help="first port to try for the server (8150)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    parser.add_argument("--floor", type=Path, default=FLOOR, help="the framework floor's folder (../shared/floor)")
    parser.add_argument("--no-floor", action="store_true", help="do not measure the floor")
    parser.add_argument("--phase-json", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if not 1 <= opts.clients <= 64 or not 1 <= opts.seconds <= 3600:
        parser.error("--clients must be 1-64 and --seconds 1-3600")

    if opts.phase_json:  # inside pg-throwaway.sh: DATABASE_URL points at the cluster
        result = run_phase(opts, os.environ["DATABASE_URL"])
        Path(opts.phase_json).write_text(json.dumps(result))
        return 0

    with_floor = not opts.no_floor and (opts.floor / "floorapp.py").exists()
    if not opts.no_floor and not with_floor:
        log(f"no floorapp.py in {opts.floor}: measuring without the floor")
    floors = [run_floor(opts, "before")] if with_floor else []
    results = []
    for db in [d.strip() for d in opts.db.split(",") if d.strip()]:
        if db == "sqlite":
            results.append(run_phase(opts, None))
        elif db in ("postgres", "postgresql"):
            results.append(run_postgres(opts))
        else:
            parser.error(f"unknown database {db!r}")
    if with_floor:
        floors.append(run_floor(opts, "after"))
    report(results, opts, floors)
    if opts.json:
        figures = {"runs": results, "floor": floors}
        Path(opts.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
