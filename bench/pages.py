#!/usr/bin/env python3
"""Page timings on the demo street: the median time of a page through Django's test client.

    .venv/bin/python bench/pages.py --data DIR                 # the leader's pages, 20 requests each
    .venv/bin/python bench/pages.py --data DIR --build         # build the demo street in DIR first
    .venv/bin/python bench/pages.py --data DIR --page /cases/overview/ --repeats 50
    .venv/bin/python bench/pages.py --data DIR --profile /cases/overview/   # where one request spends its time

``DIR`` is a data directory holding the demo street (``jiedao demo --no-serve`` with
``JIEDAO_DATA_DIR=DIR``, which ``--build`` runs). Each page is requested once unmeasured (the
process's caches: categories, templates), then ``--repeats`` times signed in as ``--user``
(default the demo's leader); the script prints the median, the fastest and the slowest time
and the number of SQL statements of one request. Times include rendering the template, not
the network or the browser's own work.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PAGES = [
    "/cases/overview/",
    "/cockpit/",
    "/evaluation/",
    "/map/",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the data directory of the demo street")
    parser.add_argument("--build", action="store_true", help="build the demo street in --data first")
    parser.add_argument("--page", action="append", help="a page to time (repeatable; default: the leader's pages)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--user", default="leader")
    parser.add_argument("--profile", metavar="PAGE", help="print a cProfile summary of one request of PAGE")
    return parser.parse_args()


def build(data):
    env = {**os.environ, "JIEDAO_DATA_DIR": data}
    env.pop("DATABASE_URL", None)
    subprocess.run([str(ROOT / ".venv" / "bin" / "jiedao"), "demo", "--no-serve"], env=env, check=True)


def setup(data):
    os.environ["JIEDAO_DATA_DIR"] = data
    os.environ.pop("DATABASE_URL", None)
    os.environ["JIEDAO_STAFF_2FA"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    import django

    django.setup()


def client_for(username):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def time_page(client, path, repeats):
    from django.db import connection

    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(path)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times), len(statements)


def profile(client, path):
    import cProfile
    import pstats

    client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main():
    args = parse_args()
    data = str(Path(args.data).resolve())
    if args.build:
        build(data)
    setup(data)
    client = client_for(args.user)
    if args.profile:
        profile(client, args.profile)
        return
    print(f"load average {os.getloadavg()[0]:.2f}; {args.repeats} requests per page as {args.user}")
    print(f"{'page':<28}{'median':>10}{'fastest':>10}{'slowest':>10}{'SQL':>6}")
    for path in args.page or PAGES:
        median, fastest, slowest, statements = time_page(client, path, args.repeats)
        print(f"{path:<28}{median:>8.1f}ms{fastest:>8.1f}ms{slowest:>8.1f}ms{statements:>6}")


if __name__ == "__main__":
    main()
