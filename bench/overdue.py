#!/usr/bin/env python3
"""The cockpit's live counters on a street with a large backlog: what counting 超期 by the case
page's rule costs, one filter against counting it in parts.

    .venv/bin/python bench/overdue.py                                                # 200,000 cases, SQLite
    scripts/pg-throwaway.sh --bench -- .venv/bin/python bench/overdue.py --cases 1000000   # PostgreSQL

The cases are generated as ``bench/cockpit.py`` generates them (its functions, the same seed and
shape: 13 % of all cases stay open for ever, 3 % never answered), one street; then the cases
resolved in the last ``--waiting-days`` days wait for their callback (待回访) instead of being
closed, so that the street also has open cases no unit is handling. Timed, median of
``--repeats``:

- **before**: the open cases and those past the completion limit, the counters as they were
  (any open case past its completion limit counted 超期): one count from the partial index
  ``case_street_open``;
- **one filter**: the overdue cases by ``rules.overdue_q`` alone (status and response limit are
  not in that index: every case being handled is read);
- **in parts**: ``cases.selectors.street_backlog``, what the cockpit runs (the index-only count,
  less the open cases no unit handles, plus those waiting for the response past its limit);
- **the API**: ``GET /api/v1/cockpit/live`` through the test client, as the leader.

Both ways must give the same number, or nothing is reported. On PostgreSQL each statement's
plan is printed (EXPLAIN ANALYZE: look for "Index Only Scan" and "Heap Fetches").
"""

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location("bench_cockpit", ROOT / "bench" / "cockpit.py")
cockpit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cockpit)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument(
        "--waiting-days", type=int, default=3, help="resolved cases of these last days wait for callback"
    )
    return parser.parse_args()


def plans(fn):
    """The plans of the statements ``fn`` runs (PostgreSQL: EXPLAIN ANALYZE), indented."""
    from django.db import connection

    statements = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        fn()
    out = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
            out += ["      " + row[0] for row in cursor.fetchall()]
            out.append("")
    return "\n".join(out)


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jiedao-overdue-"))
    street = cockpit.setup(tmp)
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.utils import timezone

    from jiedao.cases.models import OPEN_STATUSES, Case
    from jiedao.cases.selectors import overdue_cases, street_backlog
    from tests.factories import PASSWORD

    now = timezone.now()
    print(f"Database: {connection.vendor}; generating {args.cases:,} cases over {args.months} months …", flush=True)
    if connection.vendor == "postgresql":
        generation = cockpit.generate_sql(street, args.cases, args.months, max(args.batch, 500_000), now)
    else:
        generation = cockpit.generate(street, args.cases, args.months, args.batch, args.seed, now)
    waiting = Case.objects.filter(status="closed", resolved_at__gte=now - cockpit.dt.timedelta(days=args.waiting_days))
    waiting = waiting.update(status="rating", closed_at=None)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    cases = Case.objects.filter(street_id=street.street.pk).order_by()
    shape = dict(cases.filter(status__in=OPEN_STATUSES).values_list("status").annotate(n=Count("id")))
    before_qs = cases.filter(status__in=OPEN_STATUSES)
    one_filter = overdue_cases(cases, now=now)

    def before():
        return before_qs.aggregate(n=Count("*"), late=Count("completion_due", filter=Q(completion_due__lt=now)))

    client = Client()
    assert client.login(username="leader", password=PASSWORD)
    assert client.get("/api/v1/cockpit/live").status_code == 200
    timings = [
        ("before: open, open past the completion limit", before),
        ("one filter: overdue_q", one_filter.count),
        ("in parts: street_backlog (the cockpit)", lambda: street_backlog(street.street.pk, now=now)),
        ("the API: /api/v1/cockpit/live", lambda: client.get("/api/v1/cockpit/live")),
    ]
    results = {}
    print(f"generated in {generation:.0f} s; open cases by status: {shape}; waiting for callback: {waiting:,}")
    print(f"median of {args.repeats}:")
    for label, fn in timings:
        seconds, results[label] = cockpit.timed(fn, args.repeats)
        print(f"  {label:<48}{seconds * 1000:9.1f} ms", flush=True)
    backlog = results["in parts: street_backlog (the cockpit)"]
    counted = results["one filter: overdue_q"]
    assert backlog.overdue == counted, (backlog, counted)
    old = results["before: open, open past the completion limit"]
    print(f"open {backlog.open:,}; overdue {backlog.overdue:,} (the counter before said {old['late']:,})")
    if connection.vendor == "postgresql":
        print("plans, one filter:")
        print(plans(one_filter.count))
        print("plans, in parts:")
        print(plans(lambda: street_backlog(street.street.pk, now=now)))


if __name__ == "__main__":
    main()
