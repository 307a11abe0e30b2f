"""Point → grid lookup over the grids' GeoJSON boundaries (shapely STRtree).

One point at a time (``grid_id_at``, ``locate``: a case being registered) or many at
once (``grid_ids_at``: a file of buildings, the benchmark), both over the same index.
A point on the border of two grids belongs to the grid listed first (lowest code)."""

import threading
import time

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import Point, shape

from jiedao.org.models import Grid

_lock = threading.Lock()
_index = {"built_at": 0.0, "tree": None, "grid_ids": []}
# Other processes learn of boundary changes within this many seconds.
MAX_AGE_SECONDS = 60


def invalidate(**kwargs):
    with _lock:
        _index["tree"] = None


def _build():

    geoms, ids = [], []
    rows = Grid.objects.exclude(boundary=None).order_by("code").values_list("id", "boundary")
    for grid_id, boundary in rows:
        try:
            geoms.append(shape(boundary))
            ids.append(grid_id)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    _index.update(tree=STRtree(geoms) if geoms else None, grid_ids=ids, geoms=geoms, built_at=time.monotonic())


def _current_tree():
    """The index, rebuilt when a boundary changed or it is older than MAX_AGE_SECONDS (hold the lock)."""
    if _index["tree"] is None or time.monotonic() - _index["built_at"] > MAX_AGE_SECONDS:
        _build()
    return _index["tree"]


def resolve_points(tree, lngs, lats):
    """For each point, the position in ``tree`` of the first geometry containing it, or -1.

    Vectorised (shapely 2): one STRtree query of all points against the grids'
    envelopes, then one prepared point-in-polygon test of every candidate pair
    (``intersects_xy``: inside or on the border), then the lowest hit per point."""
    lngs = np.asarray(lngs, dtype=float)
    lats = np.asarray(lats, dtype=float)
    geoms = tree.geometries
    shapely.prepare(geoms)  # once per tree: later calls find them prepared
    point_idx, geom_idx = tree.query(shapely.points(lngs, lats))
    inside = shapely.intersects_xy(geoms[geom_idx], lngs[point_idx], lats[point_idx])
    result = np.full(len(lngs), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(result, point_idx[inside], geom_idx[inside])
    result[result == np.iinfo(np.int64).max] = -1
    return result


def grid_id_at(lat: float, lng: float):
    """The id of the grid whose boundary contains the point, or None."""
    with _lock:
        tree = _current_tree()
        if tree is None:
            return None
        hits = tree.query(Point(lng, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return _index["grid_ids"][int(min(hits))]


def grid_ids_at(lats, lngs):
    """The grid id at each of many points (None outside every grid), in one query."""
    with _lock:
        tree = _current_tree()
        ids = list(_index["grid_ids"])
    if tree is None:
        return [None] * len(lats)
    positions = resolve_points(tree, lngs, lats)
    return [ids[p] if p >= 0 else None for p in positions.tolist()]


def locate(lat: float, lng: float):
    """The grid (with its community) containing the point, or None."""

    grid_id = grid_id_at(lat, lng)
    if grid_id is None:
        return None
    return Grid.objects.select_related("community").get(pk=grid_id)
