"""Time the period computation on an existing database (the demo street, say): the six case
aggregations that bench/cockpit.py compares with DuckDB, and every indicator, for one period,
without writing results. Medians of ``--repeats``.

    JIEDAO_DATA_DIR=/path/to/demo .venv/bin/python bench/period.py --period 2026-11
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", required=True, help="e.g. 2026-11, 2026-W47, 2026-Q4")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from cockpit import CASE_CODES  # the six aggregations the cockpit benchmark compares with DuckDB

    from jiedao.evaluation import compute, periods

    period = periods.parse(args.period)
    runs = (
        ("six case aggregations", {"codes": CASE_CODES, "scopes": ["street", "community", "grid", "unit"]}),
        ("all indicators", {}),
    )
    for label, options in runs:
        times, count = [], 0
        for _ in range(args.repeats):
            began = time.perf_counter()
            count = len(compute.compute_values(period, **options))
            times.append(time.perf_counter() - began)
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms ({count} values, {args.repeats} runs)")


if __name__ == "__main__":
    main()
