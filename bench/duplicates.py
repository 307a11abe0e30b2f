#!/usr/bin/env python3
"""Precision and recall of the duplicate suggestions (并案 suggestions).

    JIEDAO_DATA_DIR=/tmp/demo .venv/bin/jiedao demo       # once, a demo database
    JIEDAO_DATA_DIR=/tmp/demo .venv/bin/python bench/duplicates.py --pairs [--top 1]
    JIEDAO_DATA_DIR=/tmp/demo .venv/bin/python bench/duplicates.py [--sample 1000] [--top 3]

``--pairs``: the labelled set of ``bench/data/duplicate_pairs.csv`` — pairs of reports written
by hand in the way residents phrase them, ``same`` 1 (the second report is the same matter as
the first, in other words) or 0 (another matter at the same place) — placed in the demo street
among its own cases. Each first report is registered at a registry building of the street
(its point, its address, a leaf category of the pair's ``category``) a few hours to five days
before the second; the second is looked up as it would be at intake, its place given by turns
as a point 5–40 m away, as the building's address only (a phone call), or as the building's
name only, and its category the active model's first proposal. Every same-matter text is also
looked up at a building at least 600 m away, its places naming that building (a different
place: a negative). The top
suggestion is right when it is the first report of a same-matter pair; precision = right top
suggestions / lookups with a suggestion, recall = right top suggestions / same-matter pairs.
Everything is written in a transaction that is rolled back.

Without ``--pairs``: the demo street's simulated duplicates: each merged case is looked up as
if it were being registered at its own time, place and text; a suggestion is right when it is
the case it was merged into.

Precision counts every suggestion shown (top ``--top``) for the merged cases and for as
many cases that were not merged; recall is the share of merged cases whose master is among
the suggestions. The category is the one the operator would have picked (the case's own).
"""

import argparse
import csv
import datetime as dt
import math
import os
import random
import re
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
    parser.add_argument("--pairs", action="store_true", help="the hand-written labelled pairs (bench/data)")
    parser.add_argument("--verbose", action="store_true", help="print every wrong top suggestion (--pairs)")
    parser.add_argument("--min-similarity", type=float, default=None, help="default: the selector's own (--pairs)")
    parser.add_argument(
        "--before", metavar="COMMIT", help="--pairs with the finder of that commit (git show COMMIT:…/selectors.py)"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    import django

    django.setup()
    if args.pairs:
        from jiedao.intelligence import selectors

        if args.min_score is not None:
            selectors.MIN_SCORE = args.min_score
        if args.min_similarity is not None:
            selectors.MIN_SIMILARITY = args.min_similarity
        pairs(args)
        return
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


PAIRS = ROOT / "bench" / "data" / "duplicate_pairs.csv"
MODES = ("point", "address", "building")


class Rollback(Exception):
    pass


def _offset(lat, lng, metres, rng):
    """A point ``metres`` away from (lat, lng) in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    return (
        lat + metres * math.sin(angle) / 111_320.0,
        lng + metres * math.cos(angle) / (111_320.0 * math.cos(math.radians(lat))),
    )


def _fill(text, building):
    estate = re.sub(r"\d+号楼$", "", building.name)
    road = re.sub(r"\d+号$", "", building.address)
    return text.format(building=building.name, estate=estate, address=building.address, road=road)


def _address_variant(building, rng):
    """The building's address as a caller might give it: full-width digits, a unit and room."""
    address = building.address
    if rng.random() < 0.5:
        address = address.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return f"{address} {rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}"


def _leaf(path, categories):
    """A leaf category for "level2>level3" (or "level1>level2"): the first whose path has both."""
    parts = path.split(">")
    for category in categories:
        names = category.path_name.split(" / ") if " / " in category.path_name else category.path_name.split("/")
        if all(part in names for part in parts):
            return category
    return None


def _finder_of(commit):
    """``find(text, lat, lng, address, category_code, limit, now)`` of the finder at an earlier
    commit: its selectors module, loaded from git into the package, asked as its own
    ``find_duplicates`` would ask (it knew no address)."""
    import importlib.util
    import subprocess

    source = subprocess.run(
        ["git", "show", f"{commit}:src/jiedao/intelligence/selectors.py"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    spec = importlib.util.spec_from_loader("jiedao.intelligence._selectors_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "jiedao.intelligence"
    exec(compile(source, f"{commit}:selectors.py", "exec"), module.__dict__)

    def find(text, lat, lng, address, category_code, limit, now):
        from jiedao.cases.selectors import grid_at

        grid = grid_at(lat, lng) if lat is not None else None
        category = module.category_for_label(category_code) if category_code else None
        return module.duplicate_candidates(
            text=text, lat=lat, lng=lng, grid=grid, category=category, limit=limit, now=now
        )

    return find


def pairs(args):
    from django.db import transaction
    from django.utils import timezone

    from jiedao.cases.models import Case, Category, Channel, Status
    from jiedao.intelligence import selectors
    from jiedao.registry.models import Building

    if args.before:
        before = _finder_of(args.before)

        def find(text, lat, lng, address, category_code, limit, now):
            return before(text, lat, lng, address, category_code, limit, now)
    else:

        def find(text, lat, lng, address, category_code, limit, now):
            return selectors.find_duplicates(text, lat, lng, "", category_code, limit=limit, address=address, now=now)

    rng = random.Random(args.seed)
    with PAIRS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    buildings = list(Building.objects.exclude(lat=None).select_related("grid", "community").order_by("pk"))
    if not buildings:
        sys.exit("no registry buildings with a position: build the demo first (jiedao demo)")
    leaves = list(Category.objects.filter(children__isnull=True, active=True).select_related("parent__parent"))
    street = buildings[0].community.street
    now = timezone.now()
    counts = {"same": 0, "right": 0, "shown": 0, "lookups": 0}
    wrong = []
    times = []
    try:
        with transaction.atomic():
            lookups = []
            order = rng.sample(buildings, len(buildings))
            for index, row in enumerate(rows):
                building = order[index % len(order)]
                created = now - dt.timedelta(hours=rng.uniform(3, 120))
                lat, lng = _offset(building.lat, building.lng, rng.uniform(0, 10), rng)
                first = Case.objects.create(
                    number=f"DUP{index:06d}",
                    channel=Channel.HOTLINE_12345,
                    status=Status.DISPATCHED,
                    description=_fill(row["first"], building),
                    address=f"{building.address}{building.name}",
                    lat=lat,
                    lng=lng,
                    street=street,
                    community=building.community,
                    grid=building.grid,
                    category=_leaf(row["category"], leaves),
                    created_at=created,
                )
                mode = MODES[index % len(MODES)]
                second = _fill(row["second"], building)
                same = row["same"] == "1"
                lookups.append((first, second, building, mode, same))
                if same:
                    far = [b for b in buildings if selectors.distance_m(b.lat, b.lng, building.lat, building.lng) > 600]
                    elsewhere = rng.choice(far)
                    lookups.append((first, _fill(row["second"], elsewhere), elsewhere, "point", False))
            for first, text, building, mode, same in lookups:
                place = {"description": text, "lat": None, "lng": None, "address": ""}
                if mode == "point":
                    place["lat"], place["lng"] = _offset(building.lat, building.lng, rng.uniform(5, 40), rng)
                elif mode == "address":
                    place["address"] = _address_variant(building, rng)
                else:
                    place["address"] = f"{building.name}{rng.randint(1, 4)}单元"
                proposal = selectors.suggest(text, with_units=False, k=1)
                category_code = proposal[0].category.code if proposal and proposal[0].category else ""
                started = time.perf_counter()
                found = find(
                    text,
                    place["lat"],
                    place["lng"],
                    place["address"],
                    category_code,
                    args.top,
                    first.created_at + dt.timedelta(hours=rng.uniform(1, 30)),
                )
                times.append((time.perf_counter() - started) * 1000)
                counts["lookups"] += 1
                counts["same"] += same
                if found:
                    counts["shown"] += 1
                    hit = same and found[0].case.pk == first.pk
                    counts["right"] += hit
                    if not hit and args.verbose:
                        wrong.append((same, mode, text, found[0].case.description, found[0].score))
                elif same and args.verbose:
                    wrong.append((same, mode, text, "—", 0))
            raise Rollback
    except Rollback:
        pass
    precision = counts["right"] / counts["shown"] if counts["shown"] else None
    recall = counts["right"] / counts["same"] if counts["same"] else None
    for item in wrong:
        print("WRONG" if item[3] != "—" else "MISSED", *item)
    print(
        f"pairs: {len(rows)} ({sum(r['same'] == '1' for r in rows)} same matter), lookups: {counts['lookups']} "
        f"(same matter {counts['same']}), with a suggestion: {counts['shown']}"
    )
    print(f"top-suggestion precision={precision:.3f}" if precision is not None else "precision=n/a")
    print(f"top-suggestion recall={recall:.3f}" if recall is not None else "recall=n/a")
    print(f"lookup median ms={statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
