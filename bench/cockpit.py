#!/usr/bin/env python3
"""Cockpit and period-computation benchmark (效能评价).

    .venv/bin/python bench/cockpit.py                          # 200,000 cases on a temporary SQLite file
    .venv/bin/python bench/cockpit.py --cases 1000000 --months 24
    scripts/pg-throwaway.sh --bench -- .venv/bin/python bench/cockpit.py --cases 1000000   # PostgreSQL
    scripts/pg-throwaway.sh --bench -- .venv/bin/python bench/cockpit.py --cases 10000000   # the issue's figure

What it does:

1. A fresh database (``DATABASE_URL`` when set, else a temporary SQLite file) is migrated
   and the small test street of ``tests/factories.py`` is built in it.
2. ``--cases`` cases are generated over the last ``--months`` months (spread over the
   street's communities, grids, units and leaf categories; nine in ten with a position inside
   their grid; dispatched, most responded and resolved, 70 % of resolved cases rated, every
   case's dispatch event, 2 % returned): on
   SQLite with ``bulk_create``, seeded so that runs are comparable; on PostgreSQL by the
   database itself (``INSERT … SELECT`` over ``generate_series``, the same distributions,
   500,000 cases a transaction), which makes 10,000,000 cases a matter of minutes
   (``--orm`` uses ``bulk_create`` there too).
3. Timed, each ``--repeats`` times (medians printed):
   - **rollup**: rebuilding the daily rollup for the last full month, and the heat-map
     rollup of the 29 days before today;
   - **period computation**: ``compute.compute_period`` of the last full month — every
     computable indicator for every scope, written to the results table;
   - **case aggregations**: the same computation restricted to six case indicators
     (response, resolution, satisfaction, rework, overdue rates and average response hours)
     for the street and every community, grid and unit, without writing — the part
     compared with DuckDB;
   - **cockpit**: the page itself and each API call it makes (live counters, three trend
     series, rankings, categories, daily trend, warnings, hot issues, the map's grids and
     heat) through Django's test client as the leader; their sum is the cockpit's load
     time with the calls made one after another (the page makes them at once, so the
     slowest call is printed too).
4. The same rows (cases and ratings of all months) are exported to CSV, and DuckDB runs
   the six aggregations for the same month and scopes over them (GROUPING SETS). The
   street figures of both are checked to be equal; the ratio of the two times is printed.
   The export time is printed apart (it is not part of either side).
"""

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

CASE_CODES = [
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "rework_rate",
    "overdue_rate",
    "average_response_hours",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--orm",
        action="store_true",
        help="on PostgreSQL too, generate with bulk_create (default there: INSERT … SELECT)",
    )
    return parser.parse_args()


def setup(tmp):
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from tests.factories import build_street

    return build_street()


def generate(street, count, months, batch, seed, now):
    from jiedao.cases.models import Case, CaseEvent, Category, Rating

    rng = random.Random(seed)
    leaves = list(Category.objects.filter(children__isnull=True))
    units = [street.units.enforcement, street.units.housing, street.units.service, street.units.committee1]
    grids = street.grids
    corners = grid_corners(grids)
    span = months * 30 * 86400
    start = now - dt.timedelta(seconds=span)
    made = 0
    began = time.monotonic()
    while made < count:
        size = min(batch, count - made)
        cases = []
        for i in range(size):
            n = made + i
            created = start + dt.timedelta(seconds=rng.random() * span)
            grid = grids[n % len(grids)]
            dispatched = created + dt.timedelta(minutes=rng.randint(5, 120))
            response_due = dispatched + dt.timedelta(hours=2)
            responded = dispatched + dt.timedelta(minutes=rng.randint(5, 200)) if rng.random() < 0.97 else None
            completion_due = dispatched + dt.timedelta(days=5)
            resolved = (
                dispatched + dt.timedelta(hours=rng.randint(2, 160)) if responded and rng.random() < 0.9 else None
            )
            if resolved and resolved > now:
                resolved = None
            if responded and responded > now:
                responded = None
            status = "closed" if resolved else ("in_progress" if responded else "dispatched")
            at = n % len(grids)
            lat = corners["grid_lats"][at] + rng.random() * corners["grid_size"] if n % 10 != 9 else None
            lng = corners["grid_lngs"][at] + rng.random() * corners["grid_size"] if n % 10 != 9 else None
            cases.append(
                Case(
                    number=f"B{n:010d}",
                    channel="grid" if n % 5 == 0 else "12345",
                    status=status,
                    category=leaves[n % len(leaves)],
                    description="bench",
                    street=street.street,
                    community=grid.community,
                    grid=grid,
                    lat=lat,
                    lng=lng,
                    unit=units[n % len(units)],
                    dispatched_at=dispatched,
                    response_due=response_due,
                    responded_at=responded,
                    completion_due=completion_due,
                    resolved_at=resolved,
                    closed_at=resolved,
                    created_at=created,
                )
            )
        Case.objects.bulk_create(cases, batch_size=2000)
        ratings, events = [], []
        for case in cases:
            events.append(
                CaseEvent(
                    case_id=case.pk,
                    seq=1,
                    at=case.dispatched_at,
                    action="dispatch",
                    unit_id=case.unit_id,
                    to_status="dispatched",
                )
            )
            if rng.random() < 0.02:
                events.append(
                    CaseEvent(
                        case_id=case.pk,
                        seq=2,
                        at=case.dispatched_at + dt.timedelta(minutes=30),
                        action="return",
                        actor_unit_id=case.unit_id,
                        unit_id=case.unit_id,
                    )
                )
            if case.resolved_at and rng.random() < 0.7:
                r = rng.random()
                ratings.append(
                    Rating(
                        case_id=case.pk,
                        unit_id=case.unit_id,
                        round=1,
                        resolved=r < 0.93,
                        satisfaction="satisfied" if r < 0.8 else "basic" if r < 0.93 else "unsatisfied",
                        source="callback",
                        rated_at=min(now, case.resolved_at + dt.timedelta(days=1)),
                    )
                )
        CaseEvent.objects.bulk_create(events, batch_size=2000)
        Rating.objects.bulk_create(ratings, batch_size=2000)
        made += size
        print(f"  generated {made:,} cases ({time.monotonic() - began:.0f} s)", flush=True)
    return time.monotonic() - began


GENERATE_SQL = """
WITH draws AS (
    SELECT n, random() AS r_created, random() AS r_dispatch, random() AS r_responds, random() AS r_respond,
           random() AS r_resolves, random() AS r_resolve
    FROM generate_series(%(first)s, %(last)s) AS n
), times AS (
    SELECT n, created, dispatched,
           CASE WHEN r_responds < 0.97 THEN dispatched + (5 + floor(r_respond * 196)) * interval '1 minute' END
               AS responded,
           r_resolves, r_resolve
    FROM (SELECT n, r_responds, r_respond, r_resolves, r_resolve, created,
                 created + (5 + floor(r_dispatch * 116)) * interval '1 minute' AS dispatched
          FROM (SELECT *, %(start)s::timestamptz + r_created * %(span)s * interval '1 second' AS created
                FROM draws) AS c) AS d
), rows AS (
    SELECT n, created, dispatched,
           CASE WHEN responded <= %(now)s THEN responded END AS responded,
           CASE WHEN responded IS NOT NULL AND r_resolves < 0.9
                     AND dispatched + (2 + floor(r_resolve * 159)) * interval '1 hour' <= %(now)s
                THEN dispatched + (2 + floor(r_resolve * 159)) * interval '1 hour' END AS resolved
    FROM times
)
INSERT INTO cases_case (number, channel, status, category_id, description, reporter_name, reporter_phone,
    reporter_phone_index, address, street_id, community_id, grid_id, unit_id, routed_by, dispatched_at, response_due,
    completion_due, responded_at, resolved_at, closed_at, urgency, supervised, return_count, rework_count,
    extension_count, created_at, updated_at, lat, lng)
SELECT 'B' || lpad(n::text, 10, '0'),
       CASE WHEN n %% 5 = 0 THEN 'grid' ELSE '12345' END,
       CASE WHEN resolved IS NOT NULL THEN 'closed' WHEN responded IS NOT NULL THEN 'in_progress'
            ELSE 'dispatched' END,
       (%(leaves)s::bigint[])[1 + n %% %(n_leaves)s], 'bench', '', '', '', '', %(street)s,
       (%(communities)s::bigint[])[1 + n %% %(n_grids)s], (%(grids)s::bigint[])[1 + n %% %(n_grids)s],
       (%(units)s::bigint[])[1 + n %% %(n_units)s], '',
       dispatched, dispatched + interval '2 hours', dispatched + interval '5 days', responded, resolved, resolved,
       'green', false, 0, 0, 0, created, created,
       CASE WHEN n %% 10 <> 9 THEN (%(grid_lats)s::float8[])[1 + n %% %(n_grids)s] + random() * %(grid_size)s END,
       CASE WHEN n %% 10 <> 9 THEN (%(grid_lngs)s::float8[])[1 + n %% %(n_grids)s] + random() * %(grid_size)s END
FROM rows
"""

EVENTS_SQL = """
INSERT INTO cases_caseevent (case_id, seq, at, unit_id, action, from_status, to_status, note, data)
SELECT id, 1, dispatched_at, unit_id, 'dispatch', 'new', 'dispatched', '', '{}'::jsonb
FROM cases_case WHERE id BETWEEN %(low)s AND %(high)s
UNION ALL
SELECT id, 2, dispatched_at + interval '30 minutes', unit_id, 'return', 'dispatched', 'returned', '', '{}'::jsonb
FROM cases_case WHERE id BETWEEN %(low)s AND %(high)s AND random() < 0.02
"""

RATINGS_SQL = """
INSERT INTO cases_rating (case_id, unit_id, round, resolved, satisfaction, source, comment, rated_at)
SELECT id, unit_id, 1, r < 0.93,
       CASE WHEN r < 0.8 THEN 'satisfied' WHEN r < 0.93 THEN 'basic' ELSE 'unsatisfied' END,
       'callback', '', LEAST(%(now)s::timestamptz, resolved_at + interval '1 day')
FROM (SELECT id, unit_id, resolved_at, random() AS r, random() AS rated FROM cases_case
      WHERE id BETWEEN %(low)s AND %(high)s AND resolved_at IS NOT NULL) AS resolved_cases
WHERE rated < 0.7
"""


def grid_corners(grids):
    """South-west corner of each grid's bounding box and the smallest box side, so that
    generated positions fall inside the grids (nine cases in ten have one)."""
    lats, lngs, sizes = [], [], []
    for grid in grids:
        ring = grid.boundary["coordinates"][0]
        lats.append(min(p[1] for p in ring))
        lngs.append(min(p[0] for p in ring))
        sizes.append(min(max(p[1] for p in ring) - lats[-1], max(p[0] for p in ring) - lngs[-1]))
    return {"grid_lats": lats, "grid_lngs": lngs, "grid_size": min(sizes)}


def generate_sql(street, count, months, batch, now):
    """The same history as ``generate``, written by PostgreSQL itself (INSERT … SELECT over
    generate_series): tens of millions of rows in minutes instead of hours."""
    from jiedao.cases.models import Category

    leaves = list(Category.objects.filter(children__isnull=True).values_list("pk", flat=True))
    units = [street.units.enforcement.pk, street.units.housing.pk, street.units.service.pk, street.units.committee1.pk]
    span = months * 30 * 86400
    params = {
        "start": now - dt.timedelta(seconds=span),
        "span": span,
        "now": now,
        "street": street.street.pk,
        "leaves": leaves,
        "n_leaves": len(leaves),
        "grids": [g.pk for g in street.grids],
        "communities": [g.community_id for g in street.grids],
        "n_grids": len(street.grids),
        **grid_corners(street.grids),
        "units": units,
        "n_units": len(units),
    }
    return insert_batches(
        GENERATE_SQL,
        params,
        "B",
        count,
        batch,
        now,
        lambda made, _count, began: print(f"  generated {made:,} cases ({time.monotonic() - began:.0f} s)", flush=True),
    )


def insert_batches(generate, params, prefix, count, batch, now, progress):
    """Run ``generate`` (cases numbered ``prefix`` + 10 digits) ``batch`` cases a transaction,
    each batch followed by its events and ratings; ``progress(made, count, began)`` after each."""
    from django.db import connection, transaction

    made, began = 0, time.monotonic()
    while made < count:
        size = min(batch, count - made)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(generate, dict(params, first=made, last=made + size - 1))
            cursor.execute(
                "SELECT min(id), max(id) FROM cases_case WHERE number >= %s AND number <= %s",
                [f"{prefix}{made:010d}", f"{prefix}{made + size - 1:010d}"],
            )
            low, high = cursor.fetchone()
            cursor.execute(EVENTS_SQL, {"low": low, "high": high})
            cursor.execute(RATINGS_SQL, {"low": low, "high": high, "now": now})
        made += size
        progress(made, count, began)
    return time.monotonic() - began


def timed(fn, repeats):
    times, result = [], None
    for _i in range(repeats):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def _utc(value):
    """Datetimes as naive UTC text (SQLite hands them back naive, PostgreSQL aware)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    return value


def export_csv(folder):
    from django.db import connection

    paths = {}
    queries = {
        "cases": "SELECT c.id, c.dispatched_at, c.response_due, c.responded_at, c.completion_due, c.resolved_at, "
        "u.code AS unit, m.code AS community, g.code AS grid FROM cases_case c "
        "LEFT JOIN org_unit u ON u.id = c.unit_id LEFT JOIN org_community m ON m.id = c.community_id "
        "LEFT JOIN org_grid g ON g.id = c.grid_id",
        "ratings": "SELECT r.id, r.rated_at, r.resolved, r.satisfaction, u.code AS unit, m.code AS community, "
        "g.code AS grid FROM cases_rating r JOIN cases_case c ON c.id = r.case_id "
        "LEFT JOIN org_unit u ON u.id = r.unit_id LEFT JOIN org_community m ON m.id = c.community_id "
        "LEFT JOIN org_grid g ON g.id = c.grid_id",
    }
    for name, sql in queries.items():
        path = folder / f"{name}.csv"
        with connection.cursor() as cursor, open(path, "w", newline="") as handle:
            cursor.execute(sql)
            writer = csv.writer(handle)
            writer.writerow([c[0] for c in cursor.description])
            while True:
                rows = cursor.fetchmany(50_000)
                if not rows:
                    break
                writer.writerows([[_utc(v) for v in row] for row in rows])
        paths[name] = path
    return paths


def duckdb_aggregations(paths, period, now):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    start, end, now_ = (x.astimezone(dt.UTC).replace(tzinfo=None) for x in (period.start, period.end, now))
    con.execute(f"CREATE OR REPLACE VIEW cases AS SELECT * FROM read_csv_auto('{paths['cases']}')")
    con.execute(f"CREATE OR REPLACE VIEW ratings AS SELECT * FROM read_csv_auto('{paths['ratings']}')")

    def strip(col):
        return f"CAST({col} AS TIMESTAMP)"

    out = {}
    case_sql = f"""
        SELECT unit, community, grid, GROUPING(unit, community, grid) AS g,
          COUNT(*) FILTER (WHERE {strip("responded_at")} IS NOT NULL OR {strip("response_due")} < ?) AS due,
          COUNT(*) FILTER (WHERE ({strip("responded_at")} IS NOT NULL OR {strip("response_due")} < ?)
                           AND {strip("responded_at")} <= {strip("response_due")}) AS on_time,
          COUNT(*) FILTER (WHERE {strip("completion_due")} IS NOT NULL) AS with_limit,
          COUNT(*) FILTER (WHERE {strip("resolved_at")} > {strip("completion_due")}
                           OR ({strip("resolved_at")} IS NULL AND {strip("completion_due")} < ?)) AS overdue,
          AVG(epoch({strip("responded_at")}) - epoch({strip("dispatched_at")})) / 3600 AS response_hours
        FROM cases WHERE {strip("dispatched_at")} >= ? AND {strip("dispatched_at")} < ?
        GROUP BY GROUPING SETS ((), (unit), (community), (grid))"""
    out["cases"] = con.execute(case_sql, [now_, now_, now_, start, end]).fetchall()
    rating_sql = f"""
        SELECT unit, community, grid, GROUPING(unit, community, grid) AS g, COUNT(*) AS n,
          COUNT(*) FILTER (WHERE resolved) AS resolved_n,
          COUNT(*) FILTER (WHERE satisfaction = 'satisfied') AS satisfied,
          COUNT(*) FILTER (WHERE satisfaction = 'basic') AS basic,
          COUNT(*) FILTER (WHERE NOT resolved OR satisfaction = 'unsatisfied') AS reopened
        FROM ratings WHERE {strip("rated_at")} >= ? AND {strip("rated_at")} < ?
        GROUP BY GROUPING SETS ((), (unit), (community), (grid))"""
    out["ratings"] = con.execute(rating_sql, [start, end]).fetchall()
    return out


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jiedao-cockpit-"))
    print(f"Database: {os.environ.get('DATABASE_URL') or 'SQLite in ' + str(tmp)}")
    street = setup(tmp)
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from jiedao.evaluation import compute, periods, services
    from jiedao.geo.models import HEAT_DAYS
    from tests.factories import PASSWORD

    now = timezone.now()
    if connection.vendor == "postgresql" and not args.orm:
        print(f"Generating {args.cases:,} cases over {args.months} months with SQL (INSERT … SELECT) …")
        generation = generate_sql(street, args.cases, args.months, max(args.batch, 500_000), now)
    else:
        print(f"Generating {args.cases:,} cases over {args.months} months …")
        generation = generate(street, args.cases, args.months, args.batch, args.seed, now)
    # Planner statistics and, on PostgreSQL, the visibility map that index-only scans rely on:
    # what autovacuum keeps on a database in service, done at once after a bulk load.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    month = periods.of("month", now).previous()
    # Results for the current and previous months and weeks, as the worker keeps them.
    print("Worker step (rollups, current periods, warnings, hot issues) …", flush=True)
    began = time.perf_counter()
    services.tick(now)
    tick_time = time.perf_counter() - began
    compute.compute_period(month, now)
    print(f"  worker step took {tick_time:.1f} s; timing …", flush=True)

    rollup, _r = timed(lambda: compute.refresh_daily_counts(month.start.date(), month.end.date()), args.repeats)
    today = now.astimezone(periods.SHANGHAI).date()
    heat_rollup, cells = timed(
        lambda: compute.refresh_heat_cells(today - dt.timedelta(days=HEAT_DAYS - 1), today), args.repeats
    )
    period_time, rows = timed(lambda: compute.compute_period(month, now), args.repeats)
    case_time, ours = timed(
        lambda: compute.compute_values(month, now, codes=CASE_CODES, scopes=["street", "community", "grid", "unit"]),
        args.repeats,
    )

    # The worker refreshes the hot-issue snapshot every few minutes: as it would, have it fresh
    # now (the generation's ``now`` is long past after a large history).
    services.store_hot_issues(timezone.now())
    client = Client()
    assert client.login(username="leader", password=PASSWORD)
    calls = [("page", "/cockpit/"), ("live counters", "/api/v1/cockpit/live")]
    calls += [
        (f"trend {c}", f"/api/v1/indicators/{c}/values?scope=street&period=month&last=12")
        for c in ("response_rate", "resolution_rate", "satisfaction_rate")
    ]
    calls += [
        ("rankings", "/api/v1/rankings?scope=community"),
        ("categories", "/api/v1/cockpit/categories"),
        ("daily trend", "/api/v1/cockpit/trend?days=30"),
        ("warnings", "/api/v1/warnings"),
        ("hot issues", "/api/v1/cockpit/hot-issues"),
        ("map: grids", "/api/v1/geo/grids"),
        ("map: heat", "/api/v1/geo/heat"),
    ]
    cockpit = []
    for label, url in calls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:200])
        seconds, _x = timed(lambda url=url: client.get(url), args.repeats)
        cockpit.append((label, seconds))

    began = time.perf_counter()
    paths = export_csv(tmp)
    export = time.perf_counter() - began
    duck = None
    try:
        duck_time, duck = timed(lambda: duckdb_aggregations(paths, month, now), args.repeats)
    except ImportError:
        duck_time = None

    print()
    print(f"cases: {args.cases:,} over {args.months} months ({connection.vendor}); generated in {generation:.0f} s")
    print(f"month computed: {month.key}; median of {args.repeats} runs")
    print(f"  first worker step (tick)           {tick_time * 1000:9.1f} ms")
    print(f"  daily rollup of the month          {rollup * 1000:9.1f} ms")
    print(f"  heat-map rollup of {HEAT_DAYS - 1} days         {heat_rollup * 1000:9.1f} ms  ({cells:,} cells)")
    print(f"  period computation (all, written)  {period_time * 1000:9.1f} ms  ({rows:,} results)")
    print(f"  case aggregations (6 indicators)   {case_time * 1000:9.1f} ms  ({len(ours):,} values)")
    total = sum(s for _l, s in cockpit)
    for label, seconds in cockpit:
        print(f"  cockpit API: {label:<22}{seconds * 1000:9.1f} ms")
    print(f"  cockpit, all calls one by one      {total * 1000:9.1f} ms")
    slowest = max(cockpit, key=lambda c: c[1])
    print(
        f"  cockpit, slowest call ({slowest[0]})".ljust(37) + f"{slowest[1] * 1000:9.1f} ms "
        "(the page makes the API calls at once)"
    )
    print(f"  CSV export of cases and ratings    {export * 1000:9.1f} ms (not in either side)")
    if duck is not None:
        street_ours = {i.code: v.value for i, kind, code, _n, v in ours if kind == "street"}
        case_row = next(r for r in duck["cases"] if r[3] == 7)
        duck_response = case_row[5] / case_row[4] if case_row[4] else None
        assert abs((duck_response or 0) - (street_ours["response_rate"] or 0)) < 1e-9, (duck_response, street_ours)
        rating_row = next(r for r in duck["ratings"] if r[3] == 7)
        duck_satisfaction = (rating_row[6] + 0.9 * rating_row[7]) / rating_row[4] if rating_row[4] else None
        assert abs((duck_satisfaction or 0) - (street_ours["satisfaction_rate"] or 0)) < 1e-9
        print(f"  DuckDB, same aggregations on CSV   {duck_time * 1000:9.1f} ms (street figures equal)")
        print(f"  ratio ours / DuckDB                {case_time / duck_time:9.2f}")
    else:
        print("  DuckDB not installed (pip install '.[bench]'): comparison skipped")
    if not args.keep:
        import shutil

        connection.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
