#!/usr/bin/env python3
"""History import benchmark: rows per second of ``jiedao import cases`` on SQLite, side
by side with a baseline that writes the same rows with bare SQL.

    .venv/bin/python bench/import.py                       # 300,000 rows, 3 runs
    .venv/bin/python bench/import.py --rows 50000 --runs 1

The script

1. makes a data directory, migrates it and builds the small test street
   (tests/factories.build_street: 4 units, a category tree, 4 grids with boundaries);
2. writes a 12345-style CSV of ``--rows`` work orders spread over a year (number,
   times of intake, dispatch, response and closing, deadline, unit, category, address,
   point, status, text, resolved / satisfaction, and the caller's name and phone unless
   ``--no-personal``), and its mapping;
3. for each run, copies the migrated data directory and runs the real command
   ``jiedao import cases FILE --mapping MAPPING`` in a fresh process, timing it end to
   end (start-up, reading, checking, encrypting, writing, committing);
4. runs the baseline: the same numbers of case, event and rating rows inserted with
   bare SQL through ``sqlite3`` (one connection, one transaction, ``executemany``, the
   values already prepared as text), into a copy of the same database.

It prints the median of the runs, rows per second, the ratio import / bare SQL and
whether the target (300,000 rows in under 5 minutes) was met. See bench/README.md.
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
TARGET_ROWS, TARGET_SECONDS = 300_000, 300.0

SETUP_SCRIPT = """
import django
django.setup()
from tests.factories import build_street
build_street()
"""

UNITS = ["ZHZF", "ZJ", "GGFW", "JWH01"]
CATEGORIES = ["010101", "010102", "010201", "020101", "噪音扰民", "共享单车", "房屋漏水"]
POINTS = [(39.905, 116.405), (39.905, 116.415), (39.915, 116.405), (39.915, 116.415), (39.95, 116.50)]
TEXTS = [
    "小区门口垃圾堆放三天无人清运，气味很大",
    "楼道路灯不亮，老人晚上上下楼不方便",
    "顶楼漏水，雨天墙面渗水严重",
    "独居老人需要上门助餐服务",
    "楼下商铺夜间施工噪音扰民",
    "人行道共享单车堆放影响通行",
]
SURNAMES = "王李张刘陈杨黄赵吴周"
HEADER = [
    "工单编号",
    "受理时间",
    "派单时间",
    "响应时间",
    "办结时间",
    "办结时限",
    "承办单位",
    "诉求类别",
    "事发地址",
    "纬度",
    "经度",
    "诉求内容",
    "工单状态",
    "是否解决",
    "满意度",
    "来电人",
    "来电号码",
]
MAPPING = """format: csv
encoding: utf-8
channel: "12345"
columns:
  number: 工单编号
  created: 受理时间
  dispatched: 派单时间
  responded: 响应时间
  closed: 办结时间
  deadline: 办结时限
  unit: 承办单位
  category: 诉求类别
  address: 事发地址
  lat: 纬度
  lng: 经度
  text: 诉求内容
  status: 工单状态
  rating_resolved: 是否解决
  rating_satisfaction: 满意度
  reporter_name: 来电人
  reporter_phone: 来电号码
missing_categories: create
"""


def log(message):
    print(message, flush=True)


def django_env(data_dir):
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jiedao.settings",
            "JIEDAO_DATA_DIR": str(data_dir),
            "JIEDAO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "JIEDAO_LOG_LEVEL": "ERROR",
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")]),
        }
    )
    for name in ("JIEDAO_DEBUG", "DATABASE_URL", "JIEDAO_KEY_DIR"):
        env.pop(name, None)
    return env


def run(cmd, env, timeout=3600):
    result = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return result


def generate(path, rows, personal=True, seed=20261123):
    """A 12345-style export: one work order per line, a year of history."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 11, 1, 8, 0)
    span = 365 * 24 * 3600
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            created = start + dt.timedelta(seconds=rng.randrange(span))
            roll = rng.random()
            status = (
                "已办结"
                if roll < 0.85
                else "办理中"
                if roll < 0.92
                else "待响应"
                if roll < 0.96
                else "待回访"
                if roll < 0.98
                else "待派单"
            )
            unit = "" if status == "待派单" else rng.choice(UNITS)
            dispatched = created + dt.timedelta(minutes=rng.randrange(5, 90)) if unit else None
            responded = (
                dispatched + dt.timedelta(minutes=rng.randrange(10, 240)) if dispatched and status != "待响应" else None
            )
            closed = (
                responded + dt.timedelta(hours=rng.randrange(2, 150))
                if responded and status in ("已办结", "待回访")
                else None
            )
            deadline = (dispatched + dt.timedelta(days=rng.choice((3, 5, 10)))).date() if dispatched else None
            rated = status == "已办结" and rng.random() < 0.9
            lat, lng = rng.choice(POINTS) if rng.random() < 0.8 else ("", "")
            fmt = "%Y-%m-%d %H:%M:%S"
            writer.writerow(
                [
                    f"12345{created:%Y%m%d}{i:07d}",
                    created.strftime(fmt),
                    dispatched.strftime(fmt) if dispatched else "",
                    responded.strftime(fmt) if responded else "",
                    closed.strftime(fmt) if closed else "",
                    deadline.isoformat() if deadline else "",
                    unit,
                    rng.choice(CATEGORIES),
                    f"东湖小区{rng.randrange(1, 30)}号楼{rng.randrange(1, 6)}单元",
                    lat,
                    lng,
                    rng.choice(TEXTS),
                    status,
                    ("是" if rng.random() < 0.92 else "否") if rated else "",
                    rng.choice(("满意", "满意", "满意", "基本满意", "不满意")) if rated else "",
                    (rng.choice(SURNAMES) + "先生") if personal else "",
                    f"13{rng.randrange(100000000, 999999999)}" if personal else "",
                ]
            )


def table_counts(db_path):
    with sqlite3.connect(db_path) as db:
        return {
            name: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for name, table in (("cases", "cases_case"), ("events", "cases_caseevent"), ("ratings", "cases_rating"))
        }


def baseline(db_path, rows, events, ratings):
    """Bare SQL: the same numbers of rows, values already prepared, one transaction."""
    now = "2026-01-01 00:00:00"
    cases = [
        (
            f"B{i:09d}",
            "12345",
            "closed",
            "小区门口垃圾堆放三天无人清运",
            "",
            "",
            "",
            "",
            39.905,
            116.405,
            now,
            now,
            now,
            now,
            now,
            now,
            "green",
            0,
            0,
            0,
            0,
            "",
            now,
            now,
        )
        for i in range(rows)
    ]
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO cases_case (number, channel, status, description, reporter_name, reporter_phone, "
        "reporter_phone_index, address, lat, lng, dispatched_at, response_due, completion_due, responded_at, "
        "resolved_at, closed_at, urgency, supervised, return_count, rework_count, extension_count, routed_by, "
        "created_at, updated_at) VALUES (" + ",".join(["?"] * 24) + ")",
        cases,
    )
    first = db.execute("SELECT MIN(id) FROM cases_case WHERE number LIKE 'B%'").fetchone()[0]
    per_case = events / rows if rows else 0
    event_rows, made = [], 0
    for i in range(rows):
        want = round((i + 1) * per_case) - made
        for seq in range(1, want + 1):
            event_rows.append((first + i, seq, now, "dispatch", "new", "dispatched", "", '{"import": "bench"}'))
        made += want
    db.executemany(
        "INSERT INTO cases_caseevent (case_id, seq, at, action, from_status, to_status, note, data) "
        "VALUES (?,?,?,?,?,?,?,?)",
        event_rows,
    )
    unit_id = db.execute("SELECT MIN(id) FROM org_unit").fetchone()[0]
    db.executemany(
        "INSERT INTO cases_rating (case_id, unit_id, round, resolved, satisfaction, source, comment, "
        "rated_at) VALUES (?,?,?,?,?,?,?,?)",
        [(first + i, unit_id, 1, 1, "satisfied", "callback", "", now) for i in range(ratings)],
    )
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=TARGET_ROWS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-personal", action="store_true", help="leave out the caller's name and phone")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    log(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  ·  CPUs: {os.cpu_count()}")
    work = Path(tempfile.mkdtemp(prefix="jiedao-bench-import-"))
    try:
        template = work / "template"
        template.mkdir()
        env = django_env(template)
        log("migrating and building the test street …")
        run([str(VENV_BIN / "jiedao"), "migrate", "-v", "0"], env)
        run([PYTHON, "-c", SETUP_SCRIPT], env)
        data, mapping = work / "cases.csv", work / "mapping.yaml"
        log(f"writing {args.rows:,} rows …")
        generate(data, args.rows, personal=not args.no_personal)
        mapping.write_text(MAPPING, encoding="utf-8")
        log(f"file: {data.stat().st_size / 1e6:.1f} MB")

        import_seconds, counts = [], None
        for number in range(1, args.runs + 1):
            target = work / f"run{number}"
            shutil.copytree(template, target)
            started = time.perf_counter()
            run([str(VENV_BIN / "jiedao"), "import", "cases", str(data), "--mapping", str(mapping)], django_env(target))
            seconds = time.perf_counter() - started
            import_seconds.append(seconds)
            counts = table_counts(target / "jiedao.sqlite3")
            log(f"run {number}: {seconds:.1f} s  ({args.rows / seconds:,.0f} rows/s)  {counts}")
            if not args.keep:
                shutil.rmtree(target)

        base_seconds = []
        for number in range(1, args.runs + 1):
            target = work / f"base{number}"
            shutil.copytree(template, target)
            seconds = baseline(target / "jiedao.sqlite3", args.rows, counts["events"], counts["ratings"])
            base_seconds.append(seconds)
            log(f"baseline {number}: {seconds:.2f} s")
            shutil.rmtree(target)

        med_import, med_base = statistics.median(import_seconds), statistics.median(base_seconds)
        figures = {
            "rows": args.rows,
            "personal_data": not args.no_personal,
            "runs": args.runs,
            "events": counts["events"],
            "ratings": counts["ratings"],
            "import_seconds_median": round(med_import, 2),
            "import_rows_per_s": round(args.rows / med_import),
            "bare_sql_seconds_median": round(med_base, 2),
            "bare_sql_rows_per_s": round(args.rows / med_base),
            "ratio": round(med_base / med_import, 3),
        }
        log("")
        log(f"{'':34}{'median':>12}")
        log(f"{'import (jiedao import cases)':34}{med_import:>10.1f} s   {figures['import_rows_per_s']:>9,} rows/s")
        log(f"{'bare SQL, same rows':34}{med_base:>10.1f} s   {figures['bare_sql_rows_per_s']:>9,} rows/s")
        log(f"{'ratio import / bare SQL':34}{figures['ratio']:>12.3f}")
        projected = med_import * TARGET_ROWS / args.rows
        met = projected < TARGET_SECONDS
        log(
            f"target: {TARGET_ROWS:,} rows in under {TARGET_SECONDS / 60:.0f} min → "
            f"{'met' if met else 'NOT met'} ({projected:.0f} s{'' if args.rows == TARGET_ROWS else ', projected'})"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
        return 0 if met else 1
    finally:
        if args.keep:
            log(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
