#!/usr/bin/env python3
"""Profile one intake request in-process: the SQL it runs and where the CPU goes, layer by layer.

    .venv/bin/python bench/profile_intake.py                # SQLite in a temporary directory
    .venv/bin/python bench/profile_intake.py -n 500 --top 40
    scripts/pg-throwaway.sh -- .venv/bin/python bench/profile_intake.py   # PostgreSQL

Builds the test street in a fresh database with the production settings, signs the operator
in as staff do — password and the authenticator's code (两步验证) — then sends
``POST /api/v1/cases`` (the same body as ``bench/intake.py``) through Django's test client:
the whole middleware and API stack, without HTTP or gunicorn. Prints the statements of one
request, the CPU per request without the profiler, that CPU split by layer (middleware, URL
and API dispatch, authentication, permission check, validation of the body, the intake
service, building the answer, serialisation), and a cProfile summary of ``-n`` requests.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from intake import CATEGORIES, DESCRIPTIONS, POINTS  # noqa: E402  (bench/intake.py, same folder)


def body(rng, i):
    k = rng.randrange(len(CATEGORIES))
    lat, lng = POINTS[rng.randrange(len(POINTS))]
    return {
        "channel": "12345",
        "description": f"{DESCRIPTIONS[k]}（剖析 {i}）",
        "reporter_phone": f"139{rng.randrange(10**8):08d}",
        "category": CATEGORIES[k],
        "lat": lat + rng.uniform(-0.004, 0.004),
        "lng": lng + rng.uniform(-0.004, 0.004),
        "dispatch": True,
    }


def authenticator_code(username):
    """The operator's authenticator app: a confirmed TOTP device and the code it shows now."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from jiedao.org.models import User

    device = TOTPDevice.objects.create(user=User.objects.get(username=username), name="phone", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def health_check(connection):
    """How the kept connection is checked before each request's first query (not in the list
    of statements: Django sends it past the query log)."""
    if connection.vendor != "postgresql":
        return "none on SQLite"
    if connection.settings_dict["ENGINE"] == "django.db.backends.postgresql":
        return "SELECT 1, one round trip more"
    return "the socket looked at, no statement"


def database_server_process(connection):
    """The PostgreSQL server process that serves this connection (None on SQLite, or when its
    /proc entry cannot be read)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if process_cpu(pid) is not None else None


def process_cpu(pid):
    """CPU seconds (user + system) a process has used, from /proc; None when unknown."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Requests per batch: other work on a shared machine slows some batches; the fastest batch shows
# the cost least disturbed by it.
BATCH = 50

# Where each layer starts: (file ending, function) whose cumulative CPU holds the layer and all
# beneath it. A layer's own share is its cumulative time less the next layer's.
MARKS = {
    "request": ("django/core/handlers/base.py", "get_response"),
    "below middleware": ("django/core/handlers/base.py", "_get_response"),
    "API operation": ("ninja/operation.py", "run"),
    "checks": ("jiedao/org/permissions.py", "run_checks"),
    "ninja checks": ("ninja/operation.py", "_run_checks"),
    "authentication": ("ninja/operation.py", "_run_authentication"),
    "validation": ("ninja/operation.py", "_get_values"),
    "view": ("jiedao/cases/api.py", "create_case"),
    "service": ("jiedao/cases/intake.py", "register"),
    "serialisation": ("ninja/operation.py", "_result_to_response"),
}


def print_layers(stats, cpu_ms):
    """The CPU of one request split by layer, scaled to the figure measured without the profiler
    (the profiler's own cost falls unevenly, so the split is approximate)."""
    found = {}
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for mark, (ending, function) in MARKS.items():
            if name == function and filename.endswith(ending):
                found[mark] = found.get(mark, 0.0) + cumulative
    missing = set(MARKS) - set(found)
    if missing:
        print(f"layers not found in the profile: {', '.join(sorted(missing))}")
        return
    layers = {
        "middleware (metrics, security, sessions, language, CSRF, second factor, lock-out…)": found["request"]
        - found["below middleware"],
        "URL resolution and API dispatch": found["below middleware"] - found["API operation"],
        "authentication (bearer token → user → roles)": found["authentication"],
        "throttles and permission check": found["checks"] - found["authentication"],
        "validation of the body (schema)": found["validation"],
        "intake service (cases.intake.register)": found["service"],
        "the view around it (duplicates check, answer built)": found["view"] - found["service"],
        "serialisation of the answer": found["serialisation"],
    }
    accounted = sum(layers.values())
    layers["rest of the operation"] = found["request"] - accounted
    scale = cpu_ms / found["request"]
    print("\nCPU per request by layer (ms, share):")
    for label, seconds in layers.items():
        print(f"  {seconds * scale:6.2f}  {seconds / found['request']:5.1%}  {label}")
    print(f"  {cpu_ms:6.2f}  100.0%  the whole request\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests to profile (300)")
    parser.add_argument("--top", type=int, default=35, help="rows of the profile to print (35)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative)")
    parser.add_argument("--out", help="also write the raw profile to this file (for pstats or snakeviz)")
    opts = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="jiedao-profile-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiedao.settings",
            "JIEDAO_DATA_DIR": str(data_dir),
            "JIEDAO_LOG_LEVEL": "ERROR",
        }
    )
    for name in ("JIEDAO_DEBUG", "JIEDAO_STAFF_2FA"):
        os.environ.pop(name, None)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import close_old_connections, connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        call_command("migrate", verbosity=0, interactive=False)
        from tests.factories import PASSWORD, build_street

        build_street()
        client = Client()
        response = client.post(
            "/api/v1/auth/token",
            {"username": "operator", "password": PASSWORD, "otp": authenticator_code("operator")},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content[:300]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}
        rng = random.Random(1)

        def send(i):
            # What the server does when a request starts and the test client leaves out: close a
            # connection past its age, and have the first query check the kept one (the health check).
            close_old_connections()
            r = client.post("/api/v1/cases", json.dumps(body(rng, i)), content_type="application/json", **headers)
            assert r.status_code == 201, r.content[:300]
            return r

        for i in range(20):  # warm the per-process caches
            send(i)
        with CaptureQueriesContext(connection) as queries:
            send(-1)
        print(
            f"{connection.vendor}: {len(queries)} statements in one request (and the health check: {health_check(connection)})"
        )
        for q in queries.captured_queries:
            print(f"  {q['time']:>6}  {q['sql'][:160]}")

        backend = database_server_process(connection)
        t0, c0, s0 = time.perf_counter(), time.process_time(), process_cpu(backend)
        batches = []  # CPU per request of each batch of BATCH requests
        for start in range(0, opts.n, BATCH):
            b0 = time.process_time()
            for i in range(start, min(start + BATCH, opts.n)):
                send(i)
            batches.append((time.process_time() - b0) / (min(start + BATCH, opts.n) - start))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"\n{opts.n} requests without the profiler: {elapsed / opts.n * 1000:.2f} ms each, "
            f"{cpu / opts.n * 1000:.2f} ms of this process's CPU (the figure to compare on a busy machine); "
            f"the least of {len(batches)} batches: {min(batches) * 1000:.2f} ms"
        )
        if backend is not None:
            server = process_cpu(backend) - s0
            print(
                f"the database server's process for this connection: {server / opts.n * 1000:.2f} ms of CPU per request"
            )

        profiler = cProfile.Profile(time.process_time)  # CPU time: other work on the machine does not count
        profiler.enable()
        for i in range(opts.n):
            send(i)
        profiler.disable()
        if opts.out:
            profiler.dump_stats(opts.out)
        print_layers(pstats.Stats(profiler), cpu / opts.n * 1000)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(opts.sort).print_stats(opts.top)
        print(out.getvalue())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
