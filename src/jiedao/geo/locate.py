"""Point → grid lookup over the grids' GeoJSON boundaries (shapely STRtree)."""

import threading
import time

from shapely import STRtree
from shapely.geometry import Point, shape

_lock = threading.Lock()
_index = {"built_at": 0.0, "tree": None, "grid_ids": []}
# Other processes learn of boundary changes within this many seconds.
MAX_AGE_SECONDS = 60


def invalidate(**kwargs):
    with _lock:
        _index["tree"] = None


def _build():
    from jiedao.org.models import Grid

    geoms, ids = [], []
    for grid_id, boundary in Grid.objects.exclude(boundary=None).values_list("id", "boundary"):
        try:
            geoms.append(shape(boundary))
            ids.append(grid_id)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    _index.update(tree=STRtree(geoms) if geoms else None, grid_ids=ids, geoms=geoms, built_at=time.monotonic())


def grid_id_at(lat: float, lng: float):
    """The id of the grid whose boundary contains the point, or None."""
    with _lock:
        if _index["tree"] is None or time.monotonic() - _index["built_at"] > MAX_AGE_SECONDS:
            _build()
        tree = _index["tree"]
        if tree is None:
            return None
        hits = tree.query(Point(lng, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return _index["grid_ids"][int(min(hits))]


def locate(lat: float, lng: float):
    """The grid (with its community) containing the point, or None."""
    from jiedao.org.models import Grid

    grid_id = grid_id_at(lat, lng)
    if grid_id is None:
        return None
    return Grid.objects.select_related("community").get(pk=grid_id)
