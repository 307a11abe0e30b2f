#!/usr/bin/env python3
"""Sensor ingestion benchmark: readings per second through POST /api/v1/sensors/readings
with rule evaluation, on SQLite, against a bare SQL insert of the same rows.

    .venv/bin/python bench/sensors.py                        # 200 devices, 60 batches of 1,000, 5 repeats
    .venv/bin/python bench/sensors.py --batches 20 --repeats 3 --batch-size 2000

What it does:

1. A fresh data directory (SQLite in WAL mode, as in production) is migrated and the
   small test street of ``tests/factories.py`` is built; ``--devices`` devices of every
   kind are registered, each with its own token, and the demo street's rules (every rule
   kind: above/below for a duration, rate of change, events, silence, no use by noon).
2. **API** — each batch is posted as JSON through Django's full request path (test
   client: middleware, the API's schema validation, token checks, the batch stored in
   one transaction, every reading evaluated against its device's rules, device state
   saved). About 1 % of the values breach a threshold, so alerts are raised (and then
   suppressed while open). The whole run of ``--batches`` batches is timed: sustained
   readings per second.
3. **Bare SQL** (the baseline) — the same rows inserted with ``sqlite3`` into the same
   table, one transaction and one ``executemany`` per batch, no validation, no rules.

The two take turns for ``--repeats`` repeats; the figures are medians. The ratio says
how many times slower the real path is than writing the rows alone.
"""

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="jiedao-bench-sensors-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiedao.settings",
            "JIEDAO_DATA_DIR": str(data_dir),
            "JIEDAO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "JIEDAO_LOG_LEVEL": "ERROR",
        }
    )
    for name in ("DATABASE_URL", "JIEDAO_DEBUG", "JIEDAO_KEY_DIR"):
        os.environ.pop(name, None)
    sys.path[:0] = [str(REPO / "src"), str(REPO)]

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    from jiedao.emergency import services
    from jiedao.emergency.demo import RULES
    from jiedao.emergency.models import Reading, Rule
    from tests.factories import build_street

    build_street()
    for name, kind, trigger, metric, threshold, minutes, level, outcome, category, ekind in RULES:
        Rule.objects.create(
            name=name,
            device_kind=kind,
            trigger=trigger,
            metric=metric,
            threshold=threshold,
            duration_minutes=minutes,
            level=level,
            outcome=outcome,
            category_code=category,
            emergency_kind=ekind,
        )
    kinds = [
        ("water_level", "level", 0.1, 0.6),
        ("water_quality", "ph", 7.2, 5.5),
        ("meter", "kwh", 0.2, 0.0),
        ("manhole", "tilt", 1.0, 30.0),
        ("smoke", "smoke", 0.0, 0.0),
    ]
    devices = []
    for index in range(args.devices):
        kind, metric, normal, odd = kinds[index % len(kinds)]
        device, token = services.register_device(
            None, code=f"D{index:05d}", name=f"设备{index}", kind=kind, lat=39.905, lng=116.405, _system=True
        )
        devices.append((device, token, metric, normal, odd))

    rng = random.Random(7)
    total = args.batches * args.batch_size
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    step = dt.timedelta(days=1) / total  # all readings within a day, in time order

    def batches():
        out, n = [], 0
        for _b in range(args.batches):
            items = []
            for _i in range(args.batch_size):
                device, token, metric, normal, odd = devices[n % len(devices)]
                value = odd if rng.random() < 0.01 else round(normal + rng.uniform(-0.05, 0.05), 3)
                items.append(
                    {
                        "device": device.code,
                        "token": token,
                        "at": (start + n * step).isoformat(),
                        "metric": metric,
                        "value": max(0.0, value),
                    }
                )
                n += 1
            out.append(items)
        return out

    data = batches()
    bodies = [json.dumps({"readings": items}) for items in data]
    ids = {d.code: d.pk for d, *_rest in devices}
    received = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        [
            (
                ids[i["device"]],
                dt.datetime.fromisoformat(i["at"]).strftime("%Y-%m-%d %H:%M:%S.%f"),
                i["metric"],
                i["value"],
                "",
                received,
            )
            for i in items
        ]
        for items in data
    ]
    db_path = str(connection.settings_dict["NAME"])
    client = Client()

    def reset():
        from jiedao.emergency.models import Alert, Device

        Reading.objects.all().delete()
        Alert.objects.all().delete()
        Device.objects.update(state={}, last_seen_at=None)

    def run_api():
        reset()
        t0 = time.perf_counter()
        for body in bodies:
            response = client.post("/api/v1/sensors/readings", body, content_type="application/json")
            if response.status_code != 200:
                raise SystemExit(f"API answered {response.status_code}: {response.content[:500]!r}")
        elapsed = time.perf_counter() - t0
        assert Reading.objects.count() == total
        return elapsed

    def run_sql():
        reset()
        connection.close()
        conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        t0 = time.perf_counter()
        for batch in rows:
            with conn:
                conn.executemany(
                    "INSERT INTO emergency_reading (device_id, at, metric, value, event, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    batch,
                )
        elapsed = time.perf_counter() - t0
        conn.close()
        return elapsed

    api_times, sql_times = [], []
    from jiedao.emergency.models import Alert

    alerts = 0
    for repeat in range(args.repeats):
        api_times.append(run_api())
        alerts = Alert.objects.count()
        sql_times.append(run_sql())
        print(
            f"repeat {repeat + 1}: API {total / api_times[-1]:,.0f} readings/s, "
            f"bare SQL {total / sql_times[-1]:,.0f} rows/s",
            flush=True,
        )
    api = statistics.median(api_times)
    sql = statistics.median(sql_times)
    print()
    print(
        f"readings: {total:,} in {args.batches} batches of {args.batch_size:,} from {args.devices} devices; "
        f"{Rule.objects.count()} rules; {alerts} alerts raised per run; {os.cpu_count()} CPU cores"
    )
    print(f"API with rule evaluation (median): {total / api:,.0f} readings/s ({api:.2f} s)")
    print(f"bare SQL insert (median):          {total / sql:,.0f} rows/s ({sql:.2f} s)")
    print(f"ratio (bare SQL / API):            {api / sql:.1f}x")
    print(f"target >= 5,000 readings/s:        {'met' if total / api >= 5000 else 'NOT met'}")


if __name__ == "__main__":
    main()
