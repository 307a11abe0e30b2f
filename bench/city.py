#!/usr/bin/env python3
"""A city on one installation: the daily work of many streets on one database.

    .venv/bin/python bench/city.py --streets 10 --cases 50000              # a small city on SQLite
    scripts/pg-throwaway.sh --bench -- .venv/bin/python bench/city.py     # 300 streets, 10,000,000 cases

What it does:

1. A fresh database (``DATABASE_URL`` when set, else a temporary SQLite file) is migrated,
   the real taxonomy (517 leaf categories) is loaded and a district with ``--streets``
   streets is built: each with ``--communities`` communities of ``--grids`` grids, ``--units``
   handling units (the first is the street's default unit) and an operator, a dispatcher,
   a leader and a handler per unit; one district user.
2. ``--cases`` cases are generated over the last ``--months`` months, spread evenly over the
   streets, their grids and units and the leaf categories: dispatched, most responded,
   resolved within days (0.5 % never: a long-standing backlog), 70 % of resolved cases rated,
   every case's dispatch event and 2 % returned. On PostgreSQL the database writes them
   itself (``INSERT … SELECT`` over ``generate_series``, ``--batch`` cases a transaction);
   elsewhere ``bulk_create``. Progress is printed as it goes.
3. The worker's work is done once (daily rollup of the last six weeks, the current and
   previous month's results for every scope, each street's hot-issue snapshot), timed.
4. The daily work is timed, each operation ``--repeats`` times on different streets, and
   printed with the median and, where one exists, a bare-SQL run of the same thing side by
   side:
   - **intake**: ``submit_case`` by a street's operator (validation, routing, deadlines,
     numbering, the case and its events) — against a bare ``INSERT`` of the case row and
     its two events in one transaction;
   - **handler's queue**: the first page (50) of a unit's open cases by deadline, as the
     workbench asks for it — against the bare ``SELECT … LIMIT 50`` on the same index;
   - **dispatcher's queue**: a street's new, unclassified and returned cases;
   - **street cockpit**: every API call the cockpit makes, as a street's leader, one after
     another — the live counters against the bare three counts for that street;
   - **district ranking**: ``GET /api/v1/rankings/streets`` as the district user — against
     computing the month's response rate per street from the case table with bare SQL;
   - **monthly period computation**: every indicator for every scope (streets,
     communities, grids, units, people) of the last full month, written.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Batches of generated cases with their events and ratings, as the cockpit benchmark writes them.
from cockpit import insert_batches  # noqa: E402

PASSWORD = "bench12345"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streets", type=int, default=300)
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--communities", type=int, default=4, help="communities per street")
    parser.add_argument("--grids", type=int, default=4, help="grids per community")
    parser.add_argument("--units", type=int, default=5, help="handling units per street")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=500_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def setup(tmp):
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'city.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.environ.setdefault("JIEDAO_DATA_DIR", str(tmp / "data"))
    os.environ["JIEDAO_STAFF_2FA"] = "0"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def build_city(args):
    """The district, its streets, their places, units and staff; returns a plan of ids."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction

    from jiedao.cases.taxonomy import load_taxonomy
    from jiedao.org.models import Community, District, Grid, Street, Unit, User
    from jiedao.org.roles import ALL_ROLES

    load_taxonomy()
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in ALL_ROLES}
    hashed = make_password(PASSWORD)
    with transaction.atomic():
        district = District.objects.create(code="110199", name="示范区")
        streets = Street.objects.bulk_create(
            [Street(district=district, code=f"110199{i:03d}", name=f"第{i}街道") for i in range(1, args.streets + 1)]
        )
        communities = Community.objects.bulk_create(
            [
                Community(street=s, code=f"{s.code}{c:02d}", name=f"{s.name}第{c}社区")
                for s in streets
                for c in range(1, args.communities + 1)
            ]
        )
        Grid.objects.bulk_create(
            [
                Grid(community=c, code=f"{c.code}{g:02d}", name=f"第{g}网格")
                for c in communities
                for g in range(1, args.grids + 1)
            ]
        )
        units = Unit.objects.bulk_create(
            [
                Unit(street=s, code=f"{s.code}-U{u}", name=f"{s.name}承办单位{u}", kind=Unit.Kind.SECTION)
                for s in streets
                for u in range(1, args.units + 1)
            ]
        )
        by_street = {}
        for unit in units:
            by_street.setdefault(unit.street_id, []).append(unit)
        for street in streets:
            street.default_unit = by_street[street.pk][0]
        Street.objects.bulk_update(streets, ["default_unit"])
        people = []
        for street in streets:
            for role in ("operator", "dispatcher", "leader"):
                people.append(
                    (
                        User(
                            username=f"{role}-{street.code}",
                            password=hashed,
                            street=street,
                            display_name=f"{street.name}{role}",
                        ),
                        role,
                    )
                )
            for unit in by_street[street.pk]:
                people.append(
                    (
                        User(
                            username=f"handler-{unit.code}",
                            password=hashed,
                            street=street,
                            unit=unit,
                            display_name=f"{unit.name}承办人",
                        ),
                        "handler",
                    )
                )
        people.append(
            (User(username="district", password=hashed, district=district, display_name="区考核科"), "district")
        )
        made = User.objects.bulk_create([user for user, _role in people])
        through = User.groups.through
        through.objects.bulk_create(
            [through(user_id=user.pk, group_id=groups[role].pk) for user, (_u, role) in zip(made, people, strict=False)]
        )
    return streets


def _plan(streets):
    from jiedao.cases.models import Category
    from jiedao.org.models import Grid, Unit

    index = {s.pk: i for i, s in enumerate(streets)}
    grids = list(Grid.objects.select_related("community").order_by("pk"))
    units = list(Unit.objects.order_by("street_id", "pk"))
    per_street = len(units) // len(streets)
    return {
        "leaves": list(Category.objects.filter(children__isnull=True).values_list("pk", flat=True)),
        "grids": [g.pk for g in grids],
        "communities": [g.community_id for g in grids],
        "streets": [g.community.street_id for g in grids],
        "street_index": [index[g.community.street_id] for g in grids],
        "units": [u.pk for u in units],
        "per_street": per_street,
    }


GENERATE_SQL = """
WITH draws AS (
    SELECT n, 1 + n %% %(n_grids)s AS g, random() AS r_created, random() AS r_dispatch, random() AS r_responds,
           random() AS r_respond, random() AS r_resolves, random() AS r_resolve, random() AS r_unit
    FROM generate_series(%(first)s, %(last)s) AS n
), times AS (
    SELECT n, g, r_unit, created, dispatched,
           CASE WHEN r_responds < 0.97 THEN dispatched + (5 + floor(r_respond * 196)) * interval '1 minute' END
               AS responded, r_resolves, r_resolve
    FROM (SELECT *, created + (5 + floor(r_dispatch * 116)) * interval '1 minute' AS dispatched
          FROM (SELECT *, %(start)s::timestamptz + r_created * %(span)s * interval '1 second' AS created
                FROM draws) AS c) AS d
), rows AS (
    SELECT n, g, r_unit, created, dispatched,
           CASE WHEN responded <= %(now)s THEN responded END AS responded,
           CASE WHEN responded IS NOT NULL AND r_resolves < 0.995
                     AND dispatched + (2 + floor(r_resolve * 159)) * interval '1 hour' <= %(now)s
                THEN dispatched + (2 + floor(r_resolve * 159)) * interval '1 hour' END AS resolved
    FROM times
)
INSERT INTO cases_case (number, channel, status, category_id, description, reporter_name, reporter_phone,
    reporter_phone_index, address, street_id, community_id, grid_id, unit_id, routed_by, dispatched_at,
    response_due, completion_due, responded_at, resolved_at, closed_at, urgency, supervised, return_count,
    rework_count, extension_count, created_at, updated_at)
SELECT 'C' || lpad(n::text, 10, '0'),
       CASE WHEN n %% 5 = 0 THEN 'grid' ELSE '12345' END,
       CASE WHEN resolved IS NOT NULL THEN 'closed' WHEN responded IS NOT NULL THEN 'in_progress'
            ELSE 'dispatched' END,
       (%(leaves)s::bigint[])[1 + n %% %(n_leaves)s], '城市批量生成的诉求', '', '', '', '',
       (%(streets)s::bigint[])[g], (%(communities)s::bigint[])[g], (%(grids)s::bigint[])[g],
       (%(units)s::bigint[])[1 + (%(street_index)s::int[])[g] * %(per_street)s + floor(r_unit * %(per_street)s)::int],
       '', dispatched, dispatched + interval '2 hours', dispatched + interval '5 days', responded, resolved,
       resolved, CASE WHEN resolved IS NULL AND dispatched + interval '5 days' < %(now)s THEN 'red' ELSE 'green' END,
       false, 0, 0, 0, created, created
FROM rows
"""


def generate_sql(plan, count, months, batch, now):
    span = months * 30 * 86400
    params = {
        "start": now - dt.timedelta(seconds=span),
        "span": span,
        "now": now,
        "leaves": plan["leaves"],
        "n_leaves": len(plan["leaves"]),
        "grids": plan["grids"],
        "communities": plan["communities"],
        "streets": plan["streets"],
        "street_index": plan["street_index"],
        "n_grids": len(plan["grids"]),
        "units": plan["units"],
        "per_street": plan["per_street"],
    }
    return insert_batches(GENERATE_SQL, params, "C", count, batch, now, _progress)


def generate_orm(plan, count, months, batch, now, seed=20261123):
    """The same distributions with ``bulk_create`` (SQLite, small cities)."""
    import random

    from django.db import transaction

    from jiedao.cases.models import Case, CaseEvent, Rating

    rng = random.Random(seed)
    span = months * 30 * 86400
    start = now - dt.timedelta(seconds=span)
    made, began, n_grids = 0, time.monotonic(), len(plan["grids"])
    while made < count:
        size = min(batch, count - made, 20_000)
        cases = []
        for n in range(made, made + size):
            g = n % n_grids
            created = start + dt.timedelta(seconds=rng.random() * span)
            dispatched = created + dt.timedelta(minutes=rng.randint(5, 120))
            responded = dispatched + dt.timedelta(minutes=rng.randint(5, 200)) if rng.random() < 0.97 else None
            responded = responded if responded and responded <= now else None
            resolved = (
                dispatched + dt.timedelta(hours=rng.randint(2, 160)) if responded and rng.random() < 0.995 else None
            )
            resolved = resolved if resolved and resolved <= now else None
            unit = plan["units"][plan["street_index"][g] * plan["per_street"] + rng.randrange(plan["per_street"])]
            due = dispatched + dt.timedelta(days=5)
            cases.append(
                Case(
                    number=f"C{n:010d}",
                    channel="grid" if n % 5 == 0 else "12345",
                    status="closed" if resolved else ("in_progress" if responded else "dispatched"),
                    category_id=plan["leaves"][n % len(plan["leaves"])],
                    description="城市批量生成的诉求",
                    street_id=plan["streets"][g],
                    community_id=plan["communities"][g],
                    grid_id=plan["grids"][g],
                    unit_id=unit,
                    dispatched_at=dispatched,
                    response_due=dispatched + dt.timedelta(hours=2),
                    completion_due=due,
                    responded_at=responded,
                    resolved_at=resolved,
                    closed_at=resolved,
                    urgency="red" if resolved is None and due < now else "green",
                    created_at=created,
                )
            )
        with transaction.atomic():
            Case.objects.bulk_create(cases, batch_size=2000)
            events, ratings = [], []
            for case in cases:
                events.append(
                    CaseEvent(
                        case_id=case.pk,
                        seq=1,
                        at=case.dispatched_at,
                        action="dispatch",
                        unit_id=case.unit_id,
                        from_status="new",
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
                            unit_id=case.unit_id,
                            from_status="dispatched",
                            to_status="returned",
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
        _progress(made, count, began)
    return time.monotonic() - began


def _progress(made, count, began):
    elapsed = time.monotonic() - began
    left = elapsed / made * (count - made) if made else 0
    print(f"  {made:,} / {count:,} cases ({made / count:.0%}), {elapsed:.0f} s, about {left:.0f} s left", flush=True)


def timed(fn, repeats):
    """Median seconds of ``repeats`` calls, each on the next of a rotating set of inputs."""
    times = []
    for i in range(repeats):
        began = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bare(sql, params_for):
    from django.db import connection

    def run(i):
        with connection.cursor() as cursor:
            cursor.execute(sql, params_for(i))
            cursor.fetchall()

    return run


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jiedao-city-"))
    print(f"Database: {os.environ.get('DATABASE_URL') or 'SQLite in ' + str(tmp)}", flush=True)
    setup(tmp)
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from jiedao.cases import selectors as case_selectors
    from jiedao.cases import services as case_services
    from jiedao.cases.models import OPEN_STATUSES, Case, Category
    from jiedao.evaluation import compute, periods
    from jiedao.evaluation import services as evaluation_services
    from jiedao.org.models import Street, Unit, User

    began = time.monotonic()
    print(
        f"Building a district of {args.streets} streets ({args.communities} communities × {args.grids} grids, "
        f"{args.units} units each) …",
        flush=True,
    )
    streets = build_city(args)
    plan = _plan(streets)
    print(f"  built in {time.monotonic() - began:.0f} s", flush=True)
    now = timezone.now()
    if connection.vendor == "postgresql":
        print(f"Generating {args.cases:,} cases over {args.months} months with SQL (INSERT … SELECT) …", flush=True)
        generation = generate_sql(plan, args.cases, args.months, args.batch, now)
    else:
        print(f"Generating {args.cases:,} cases over {args.months} months …", flush=True)
        generation = generate_orm(plan, args.cases, args.months, args.batch, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    print("Worker step: daily rollup of six weeks, this and last month's results, hot issues …", flush=True)
    month = periods.of("month", now).previous()
    today = timezone.localdate(now)
    began = time.perf_counter()
    compute.refresh_daily_counts(today - dt.timedelta(days=42), today + dt.timedelta(days=1))
    rollup_time = time.perf_counter() - began
    began = time.perf_counter()
    rows_written = compute.compute_period(month, now)
    period_time = time.perf_counter() - began
    compute.compute_period(periods.of("month", now), now)
    began = time.perf_counter()
    evaluation_services.store_hot_issues(now)
    hot_time = time.perf_counter() - began
    print(f"  done ({rollup_time + period_time + hot_time:.0f} s)", flush=True)

    # The streets the timings rotate through, spread over the city.
    sample = [streets[(i * 37) % len(streets)] for i in range(args.repeats)]
    staff = {
        u.username: u
        for u in User.objects.filter(username__regex=r"^(operator|dispatcher|leader|handler)-").select_related(
            "unit", "street"
        )
    }
    units = {s.pk: list(Unit.objects.filter(street=s).order_by("pk")) for s in sample}
    grids_of = {s.pk: [g for g, st in zip(plan["grids"], plan["streets"], strict=False) if st == s.pk] for s in sample}
    from jiedao.org.models import Grid

    grid_codes = dict(Grid.objects.filter(pk__in=[g for gs in grids_of.values() for g in gs]).values_list("pk", "code"))
    leaf_codes = list(
        Category.objects.filter(children__isnull=True).order_by("code").values_list("code", flat=True)[:50]
    )
    results = []

    def intake(i):
        street = sample[i % len(sample)]
        case_services.submit_case(
            staff[f"operator-{street.code}"],
            channel="12345",
            description=f"第{i}号楼前路面破损，请尽快修复",
            reporter_phone=f"139{i:08d}",
            grid_code=grid_codes[grids_of[street.pk][i % len(grids_of[street.pk])]],
            category_code=leaf_codes[i % len(leaf_codes)],
            dispatch=True,
        )

    def bare_intake(i):
        street = sample[i % len(sample)]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_case (number, channel, status, category_id, description, reporter_name, "
                "reporter_phone, reporter_phone_index, address, street_id, community_id, grid_id, unit_id, "
                "routed_by, dispatched_at, response_due, completion_due, urgency, supervised, return_count, "
                "rework_count, extension_count, created_at, updated_at) VALUES (%s, '12345', 'dispatched', %s, "
                "'路面破损', '', '', '', '', %s, %s, %s, %s, '', %s, %s, %s, 'green', false, 0, 0, 0, %s, %s)",
                [
                    f"X{i:09d}",
                    plan["leaves"][0],
                    street.pk,
                    plan["communities"][0],
                    plan["grids"][0],
                    units[street.pk][0].pk,
                    now,
                    now,
                    now,
                    now,
                    now,
                ],
            )
            cursor.execute("SELECT id FROM cases_case WHERE number = %s", [f"X{i:09d}"])
            case_id = cursor.fetchone()[0]
            for seq, action in ((1, "create"), (2, "dispatch")):
                cursor.execute(
                    "INSERT INTO cases_caseevent (case_id, seq, at, action, from_status, to_status, note, "
                    "data) VALUES (%s, %s, %s, %s, '', 'dispatched', '', '{}')",
                    [case_id, seq, now, action],
                )

    results.append(
        ("intake (submit + route + dispatch)", timed(intake, args.repeats), timed(bare_intake, args.repeats))
    )

    handlers = [staff[f"handler-{units[s.pk][1].code}"] for s in sample]
    open_statuses = list(OPEN_STATUSES)

    def queue(i):
        case_selectors.case_list(handlers[i % len(handlers)], status="open", order="due", limit=50)

    marks = ", ".join(["%s"] * len(open_statuses))
    bare_queue = bare(
        f"SELECT id, number, status, completion_due FROM cases_case WHERE unit_id = %s "
        f"AND status IN ({marks}) ORDER BY completion_due, id LIMIT 50",
        lambda i: [handlers[i % len(handlers)].unit_id, *open_statuses],
    )
    results.append(
        ("handler's queue (open, by deadline, 50)", timed(queue, args.repeats), timed(bare_queue, args.repeats))
    )

    def dispatcher(i):
        case_selectors.dispatcher_queue(staff[f"dispatcher-{sample[i % len(sample)].code}"])

    results.append(("dispatcher's queue (3 lists)", timed(dispatcher, args.repeats), None))

    client = Client()
    calls = [
        "/api/v1/cockpit/live",
        "/api/v1/indicators/response_rate/values?scope=street&period=month&last=12",
        "/api/v1/indicators/resolution_rate/values?scope=street&period=month&last=12",
        "/api/v1/indicators/satisfaction_rate/values?scope=street&period=month&last=12",
        "/api/v1/rankings?scope=community",
        "/api/v1/cockpit/categories",
        "/api/v1/cockpit/trend?days=30",
        "/api/v1/warnings",
        "/api/v1/cockpit/hot-issues",
    ]
    leaders = [staff[f"leader-{s.code}"] for s in sample]
    for url in calls:  # every call answers before anything is timed
        client.force_login(leaders[0])
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])

    def cockpit(i):
        client.force_login(leaders[i % len(leaders)])
        for url in calls:
            client.get(url)

    def live(i):
        client.force_login(leaders[i % len(leaders)])
        client.get(calls[0])

    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    bare_live = bare(
        f"SELECT (SELECT count(*) FROM cases_case WHERE street_id = %s AND created_at >= %s AND status <> 'merged'), "
        f"(SELECT count(*) FROM cases_case WHERE street_id = %s AND status IN ({marks})), "
        f"(SELECT count(*) FROM cases_case WHERE street_id = %s AND status IN ({marks}) AND completion_due < %s)",
        lambda i: [
            sample[i % len(sample)].pk,
            day_start,
            sample[i % len(sample)].pk,
            *open_statuses,
            sample[i % len(sample)].pk,
            *open_statuses,
            now,
        ],
    )
    results.append(("street cockpit: live counters", timed(live, args.repeats), timed(bare_live, args.repeats)))
    results.append((f"street cockpit: all {len(calls)} calls", timed(cockpit, args.repeats), None))

    district = User.objects.get(username="district")

    def ranking(i):
        client.force_login(district)
        response = client.get(f"/api/v1/rankings/streets?period={month.key}")
        assert response.status_code == 200 and len(response.json()["rows"]) == len(streets)

    bare_ranking = bare(
        "SELECT street_id, count(*) FILTER (WHERE responded_at <= response_due) * 1.0 / nullif(count(*), 0) "
        "FROM cases_case WHERE dispatched_at >= %s AND dispatched_at < %s "
        "AND (responded_at IS NOT NULL OR response_due < %s) GROUP BY street_id",
        lambda i: [month.start, month.end, now],
    )
    results.append(
        (f"district ranking of {len(streets)} streets", timed(ranking, args.repeats), timed(bare_ranking, args.repeats))
    )

    cases_total = Case.objects.count()
    print()
    print(
        f"city: {len(streets)} streets, {Street.objects.count()} in the district; {cases_total:,} cases over "
        f"{args.months} months ({connection.vendor}); generated in {generation:.0f} s"
    )
    print(
        f"worker step, once: daily rollup of 6 weeks {rollup_time:.1f} s; hot-issue snapshots of every street "
        f"{hot_time:.1f} s"
    )
    print(
        f"monthly period computation ({month.key}, every indicator and scope, written): {period_time:.1f} s "
        f"({rows_written:,} results)"
    )
    print(f"daily work, median of {args.repeats} (each on another street):")
    print(f"  {'operation':<42}{'ours':>11}{'bare SQL':>11}{'ratio':>8}")
    for label, ours, base in results:
        if base:
            print(f"  {label:<42}{ours * 1000:8.1f} ms{base * 1000:8.1f} ms{ours / base:8.2f}")
        else:
            print(f"  {label:<42}{ours * 1000:8.1f} ms")
    if not args.keep:
        import shutil

        connection.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
