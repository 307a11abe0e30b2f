#!/usr/bin/env python3
"""Profile one intake request in-process: the SQL it runs and where the Python time goes.

    .venv/bin/python bench/profile_intake.py                # SQLite in a temporary directory
    .venv/bin/python bench/profile_intake.py -n 500 --top 40
    scripts/pg-throwaway.sh -- .venv/bin/python bench/profile_intake.py   # PostgreSQL

Builds the test street in a fresh database, signs the operator in (password only, the second
factor switched off as in ``bench/intake.py``), then sends
``POST /api/v1/cases`` (the same body as ``bench/intake.py``) through Django's test
client — the whole middleware and API stack, without HTTP or gunicorn. Prints the
statements of one request, the mean time per request, and a cProfile summary of
``-n`` requests sorted by cumulative time.
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
            # The operator signs in with the password alone, as in bench/intake.py: the second
            # factor is not what is measured here.
            "JIEDAO_STAFF_2FA": "0",
        }
    )
    os.environ.pop("JIEDAO_DEBUG", None)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        call_command("migrate", verbosity=0, interactive=False)
        from tests.factories import PASSWORD, build_street

        build_street()
        client = Client()
        response = client.post(
            "/api/v1/auth/token", {"username": "operator", "password": PASSWORD}, content_type="application/json"
        )
        headers = {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}
        rng = random.Random(1)

        def send(i):
            r = client.post("/api/v1/cases", json.dumps(body(rng, i)), content_type="application/json", **headers)
            assert r.status_code == 201, r.content[:300]
            return r

        for i in range(20):  # warm the per-process caches
            send(i)
        with CaptureQueriesContext(connection) as queries:
            send(-1)
        print(f"{connection.vendor}: {len(queries)} statements in one request")
        for q in queries.captured_queries:
            print(f"  {q['time']:>6}  {q['sql'][:160]}")

        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(opts.n):
            send(i)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"\n{opts.n} requests without the profiler: {elapsed / opts.n * 1000:.2f} ms each, "
            f"{cpu / opts.n * 1000:.2f} ms of this process's CPU (the figure to compare on a busy machine)"
        )

        profiler = cProfile.Profile(time.process_time)  # CPU time: other work on the machine does not count
        profiler.enable()
        for i in range(opts.n):
            send(i)
        profiler.disable()
        if opts.out:
            profiler.dump_stats(opts.out)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(opts.sort).print_stats(opts.top)
        print(out.getvalue())
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
