"""Grouping a measure by scope: the street, community, grid and unit of a case (or of a rating)
from one scan, read once per computation and summed per scope kind."""

from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet

from jiedao.org.models import Community, Grid, Street, Unit

CASE_IDS = {"street": "street_id", "community": "community_id", "grid": "grid_id", "unit": "unit_id"}
RATING_IDS = {
    "street": "case__street_id",
    "community": "case__community_id",
    "grid": "case__grid_id",
    "unit": "unit_id",
}
SCOPE_MODELS = {"street": Street, "community": Community, "grid": Grid, "unit": Unit}


def scope_codes(run, scope: str) -> dict:
    """{id: code} of the scopes of one kind (read once per computation)."""
    return run.once(("codes", scope), lambda: dict(SCOPE_MODELS[scope].objects.values_list("pk", "code")))


def by_scope(run, qs: QuerySet, scope: str, *, ratings: bool = False, **aggregates) -> dict:
    """{scope code: aggregates} of ``qs`` grouped by the case's (or, ``ratings``, the rated
    case's) street, community or grid, or the unit, from one scan for all four: the rows are
    grouped by the four scope ids at once — read once per computation (``run``) however many
    scopes and indicators ask for the same query — then summed per scope. ``aggregates`` must add
    up across groups (counts and sums, not averages); a scope without rows is absent."""
    ids = RATING_IDS if ratings else CASE_IDS
    try:
        sql = str(qs.query)
    except EmptyResultSet:  # a filter nothing can match (e.g. an empty list of categories)
        return {}
    key = ("by_scope", sql, tuple(sorted((name, str(a)) for name, a in aggregates.items())))
    rows = run.once(key, lambda: list(qs.order_by().values(*ids.values()).annotate(**aggregates)))
    codes, field = scope_codes(run, scope), ids[scope]
    out: dict = {}
    for row in rows:
        code = codes.get(row[field])
        if not code:
            continue
        into = out.setdefault(code, dict.fromkeys(aggregates))
        for name in aggregates:
            if row[name] is not None:
                into[name] = row[name] if into[name] is None else into[name] + row[name]
    return out
