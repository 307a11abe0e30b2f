#!/usr/bin/env python3
"""Precision and recall of the duplicate suggestions (并案 suggestions) on the demo street's
simulated duplicates: each merged case is looked up as if it were being registered at its
own time, place and text; a suggestion is right when it is the case it was merged into.

    JIEDAO_DATA_DIR=/tmp/demo .venv/bin/jiedao demo       # once, a demo database
    JIEDAO_DATA_DIR=/tmp/demo .venv/bin/python bench/duplicates.py [--sample 1000] [--top 3]

Precision counts every suggestion shown (top ``--top``) for the merged cases and for as
many cases that were not merged; recall is the share of merged cases whose master is among
the suggestions. The category is the one the operator would have picked (the case's own).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-score", type=float, default=None, help="default: the selector's own")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    import django

    django.setup()
    from jiedao.cases.models import Case, Status
    from jiedao.intelligence.selectors import duplicate_candidates

    rng = random.Random(args.seed)
    merged = list(
        Case.objects.filter(status=Status.MERGED, master__isnull=False)
        .select_related("category", "grid")
        .order_by("pk")
    )
    others = list(Case.objects.exclude(status=Status.MERGED).filter(grid__isnull=False).values_list("pk", flat=True))
    if not merged:
        sys.exit("no merged cases in this database: build the demo first (jiedao demo)")
    merged = rng.sample(merged, min(args.sample, len(merged)))
    plain = Case.objects.filter(pk__in=rng.sample(others, min(len(merged), len(others)))).select_related(
        "category", "grid"
    )
    shown = right = found = 0
    times = []
    for case in merged + list(plain):
        started = time.perf_counter()
        candidates = duplicate_candidates(
            text=case.description,
            lat=case.lat,
            lng=case.lng,
            grid=case.grid,
            category=case.category,
            now=case.created_at,
            exclude_id=case.pk,
            limit=args.top,
            **({"min_score": args.min_score} if args.min_score is not None else {}),
        )
        times.append((time.perf_counter() - started) * 1000)
        shown += len(candidates)
        if case.master_id:
            hit = any(c.case.pk == case.master_id for c in candidates)
            right += hit
            found += hit
    precision = right / shown if shown else None
    recall = found / len(merged)
    print(f"merged cases tested: {len(merged)}, other cases tested: {len(plain)}, suggestions shown: {shown}")
    print(f"precision={precision:.3f}" if precision is not None else "precision=n/a")
    print(f"recall={recall:.3f}")
    print(f"lookup median ms={statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
