"""Who may act on which case: the scopes of the case lifecycle's table (``states.py``).

A row of the table names ``(role, scope)`` pairs; the role comes from the permission table,
the scope says which cases of that role's holder the row covers. ``any`` (every case of the
streets the user answers for) and ``public`` (the reporter who proved it with the case's
phone) are the engine's own (``common.lifecycle``); the cases' own scopes are:

- ``own_unit``: the user's unit holds the case;
- ``summoned_unit``: the user's unit was summoned to the case (a whistle or a co-handling task);
- ``own_report``: the user reported the case;
- ``own_grid``: the case lies in one of the user's grids (or in no grid).

Each check is ``check(user, case, context) -> bool`` for a signed-in user who holds the row's
role. Nothing here writes: services (which refuse) and selectors (which offer the actions a
page shows) both ask these rules.
"""

from jiedao.common.lifecycle import Context, ScopeCheck

from .models import WhistleSummons

OWN_UNIT = "own_unit"
SUMMONED = "summoned_unit"
OWN_REPORT = "own_report"
OWN_GRID = "own_grid"


def holds_case(user, case, context: Context) -> bool:
    """The user's unit is the unit holding the case."""
    return user.unit_id is not None and user.unit_id == case.unit_id


def summoned_to_case(user, case, context: Context) -> bool:
    """The user's unit was summoned to the case by a whistle or a co-handling task."""
    return user.unit_id is not None and WhistleSummons.objects.filter(whistle__case=case, unit_id=user.unit_id).exists()


def reported_case(user, case, context: Context) -> bool:
    """The user reported the case."""
    return case.reporter_id is not None and case.reporter_id == user.pk


def case_in_own_grid(user, case, context: Context) -> bool:
    """The case lies in one of the user's grids, or in no grid at all."""
    return case.grid_id is None or user.grids.filter(pk=case.grid_id).exists()


SCOPES: dict[str, ScopeCheck] = {
    OWN_UNIT: holds_case,
    SUMMONED: summoned_to_case,
    OWN_REPORT: reported_case,
    OWN_GRID: case_in_own_grid,
}
