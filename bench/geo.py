#!/usr/bin/env python3
"""Grid lookup benchmark: resolve random points to the demo street's 40 grids.

    .venv/bin/python bench/geo.py                       # 1,000,000 points, 5 repeats
    .venv/bin/python bench/geo.py --points 200000 --repeats 3 --sample 20000
    .venv/bin/python bench/geo.py --vertices 200      # boundaries with ~200 vertices each

Three ways to answer "which grid is this point in?", over the same polygons (the demo
street's grids from jiedao.demo.places, coded as the demo builder codes them):

1. **STRtree, vectorised** — ``jiedao.geo.locate.resolve_points``: one shapely 2
   ``STRtree.query`` of an array of all points against the grids' envelopes, one
   prepared ``intersects_xy`` test of the candidate pairs, the lowest hit per point.
   This is what ``grid_ids_at`` (many points at once) runs.
2. **STRtree, one point per call** — ``tree.query(Point)`` in a Python loop, as a
   case being registered calls ``grid_id_at`` (without the lock and the database).
3. **naive loop** — for each point, ``polygon.intersects(Point)`` (inside or on the
   border, as the index answers) over the plain shapely polygons in order until one
   matches (the baseline).

Points are uniform in the street's bounding box widened by 5 % on every side, so a
sixth fall outside every grid. (1) runs on all points; (2) and (3) are too slow for a
million points in a Python loop, so they run on the first ``--sample`` points and
their time for all points is extrapolated from their rate — the output says so.
Every repeat is timed, the three methods taking turns; the figures are medians. The
three answers are checked to be identical on the sample before anything is printed.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from jiedao.demo import places  # noqa: E402  (plain data, no Django needed)
from jiedao.geo.locate import resolve_points  # noqa: E402


def demo_grids():
    """(code, shapely polygon) of the demo street's grids, coded like the demo builder."""
    street = places.STREET[0]
    geometry = dict(places.community_geometry())
    grids = []
    for index, (suffix, _name, _estates, _roads) in enumerate(places.COMMUNITIES):
        for g_index, rect in enumerate(geometry[index]):
            grids.append((f"{street}{suffix}{g_index + 1:02d}", shape(places.polygon(*rect))))
    return grids


def random_points(count, bounds, seed=20261118):
    west, south, east, north = bounds
    pad_x, pad_y = (east - west) * 0.05, (north - south) * 0.05
    rng = np.random.default_rng(seed)
    lngs = rng.uniform(west - pad_x, east + pad_x, count)
    lats = rng.uniform(south - pad_y, north + pad_y, count)
    return lngs, lats


def per_point(tree, lngs, lats):
    out = np.empty(len(lngs), dtype=np.int64)
    for i, (x, y) in enumerate(zip(lngs.tolist(), lats.tolist(), strict=True)):
        hits = tree.query(Point(x, y), predicate="intersects")
        out[i] = int(hits.min()) if len(hits) else -1
    return out


def naive(polygons, lngs, lats):
    out = np.empty(len(lngs), dtype=np.int64)
    for i, (x, y) in enumerate(zip(lngs.tolist(), lats.tolist(), strict=True)):
        point = Point(x, y)
        out[i] = -1
        for index, polygon in enumerate(polygons):
            if polygon.intersects(point):
                out[i] = index
                break
    return out


def timed(functions, repeats):
    """Runs each function ``repeats`` times, interleaved (a, b, c, a, b, c …) so that a
    change in the machine's load touches every method alike. Returns, per function,
    (median seconds, every repeat's seconds, the last result)."""
    seconds = [[] for _ in functions]
    results = [None] * len(functions)
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            results[index] = function()
            seconds[index].append(time.perf_counter() - start)
    return [(statistics.median(s), s, r) for s, r in zip(seconds, results, strict=True)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000, help="points resolved by the vectorised path")
    parser.add_argument(
        "--sample", type=int, default=50_000, help="points for the per-point and naive loops (extrapolated to --points)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--vertices",
        type=int,
        default=0,
        help="densify each grid's boundary to about this many vertices (same shape): "
        "surveyed boundaries have far more than the demo's 5",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    sample = min(args.sample, args.points)

    grids = demo_grids()
    polygons = [polygon for _code, polygon in grids]
    if args.vertices > 5:
        polygons = [shapely.segmentize(p, p.length / args.vertices) for p in polygons]
    vertices = int(statistics.median(len(p.exterior.coords) for p in polygons))
    tree = STRtree(polygons)
    bounds = tuple(shapely.total_bounds(polygons).tolist())
    lngs, lats = random_points(args.points, bounds)

    # The baseline gets its own unprepared copies (the vectorised path prepares the tree's).
    plain = [shapely.from_wkb(shapely.to_wkb(p)) for p in polygons]
    (vec_median, vec_all, vec_result), (one_median, one_all, one_result), (naive_median, naive_all, naive_result) = (
        timed(
            [
                lambda: resolve_points(tree, lngs, lats),
                lambda: per_point(tree, lngs[:sample], lats[:sample]),
                lambda: naive(plain, lngs[:sample], lats[:sample]),
            ],
            args.repeats,
        )
    )

    if not (np.array_equal(vec_result[:sample], one_result) and np.array_equal(one_result, naive_result)):
        print("the three methods disagree on the sample: not reporting figures", file=sys.stderr)
        return 1

    rates = {
        "strtree_vectorised": args.points / vec_median,
        "strtree_per_point": sample / one_median,
        "naive_loop": sample / naive_median,
    }
    outside = int((vec_result == -1).sum())
    load = f" · load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(
        f"grids: {len(polygons)} (the demo street, median {vertices} vertices each) · points: {args.points:,} "
        f"({outside:,} outside every grid) · repeats: {args.repeats} · CPU cores: {os.cpu_count()}{load}"
    )
    print()
    print(f"{'method':<34}{'points timed':>14}{'points/s (median)':>20}{'s for all points':>18}")
    rows = [
        ("STRtree, vectorised query", args.points, rates["strtree_vectorised"], vec_median, ""),
        (
            "STRtree, one point per call",
            sample,
            rates["strtree_per_point"],
            args.points / rates["strtree_per_point"],
            " *",
        ),
        ("naive loop over polygons", sample, rates["naive_loop"], args.points / rates["naive_loop"], " *"),
    ]
    for name, timed_points, rate, total, mark in rows:
        print(f"{name:<34}{timed_points:>14,}{rate:>20,.0f}{total:>17.2f}{mark or ' '}")
    print(f"\n* timed on the first {sample:,} points; the time for all {args.points:,} is extrapolated from the rate.")
    ratio_vec = rates["strtree_vectorised"] / rates["naive_loop"]
    ratio_one = rates["strtree_per_point"] / rates["naive_loop"]
    print(f"ratio STRtree vectorised / naive loop: {ratio_vec:,.1f}×")
    print(f"ratio STRtree one point per call / naive loop: {ratio_one:,.1f}×")
    print("\nseconds per repeat:")
    print("  vectorised  ", " ".join(f"{s:.3f}" for s in vec_all))
    print("  per point   ", " ".join(f"{s:.3f}" for s in one_all))
    print("  naive       ", " ".join(f"{s:.3f}" for s in naive_all))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "points": args.points,
                    "sample": sample,
                    "repeats": args.repeats,
                    "grids": len(polygons),
                    "vertices": vertices,
                    "outside": outside,
                    "points_per_second": rates,
                    "ratio_vectorised_to_naive": ratio_vec,
                    "ratio_per_point_to_naive": ratio_one,
                    "seconds": {"vectorised": vec_all, "per_point": one_all, "naive": naive_all},
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
