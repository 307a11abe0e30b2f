"""Reads of the registry. Every selector takes the user and returns only what that user
may see; personal data goes out masked unless the caller asked to unmask and the
user may, and then the view is written to the access log.

Who sees what (权限分级):

| role | sees | may unmask identity number and phone |
| --- | --- | --- |
| 网格员 grid worker | persons and buildings of own grids | own grids' persons, on "显示完整" |
| 社区居委会 community staff (handler of a community unit) | own community | no |
| 街道科室 street section staff, 派单员, 街道领导 | the whole street | no |
| 系统管理员 administrator | the whole street | yes, on "显示完整" |
| residents, district departments, others | nothing | no |

Those who may unmask a person are also the only ones who may look them up by a complete
identity number or phone (``person_list``'s ``q``), each look-up logged. Masked, a person
comes with their age, never their birth date (eight of the hidden digits).

One module per sub-domain:

- ``scope``: who may read, edit, unmask and import, and the records in a user's scope;
- ``persons``: a person or household for the reader, the person list and exact look-ups;
- ``conflicts``: the merge conflicts waiting for a decision;
- ``care``: the assistance list (帮扶清单), the visit measure and whom a user may visit;
- ``freshness``: data freshness (数据鲜活度);
- ``imports``: the import runs and what an import did;
- ``addresses``: the building whose address a text names.

Selectors never import services.
"""

from .addresses import (
    forget_addresses,
    point_for_address,
)
from .care import (
    CARED_STATUSES,
    RECENT_VISIT_DAYS,
    VisitRate,
    assistance_list,
    assistance_rows,
    cared,
    recent_visits_by,
    visit_candidates,
    visits_per_week,
    weekly_visit_rates,
)
from .conflicts import (
    conflict_place,
    display_value,
    pending_conflict_count,
    pending_conflicts,
)
from .freshness import (
    DEFAULT_FRESH_DAYS,
    Freshness,
    freshness,
)
from .imports import (
    describe_counts,
    import_run_for,
    import_runs,
)
from .persons import (
    FIELD_LABELS,
    LOOKUP_REFUSED,
    PERSON_RELATED,
    Lookup,
    address_of,
    age_on,
    building_for,
    field_label,
    house_households,
    household_for,
    lookup_in,
    may_look_up,
    members_of,
    person_for,
    person_list,
    person_out,
    persons_with_places,
    require_look_up,
    reveal,
    sources_of,
    visits_of,
)
from .scope import (
    STREET_WIDE_ROLES,
    Scope,
    active_tags,
    grid_or_error,
    may_edit,
    may_edit_place,
    may_edit_somewhere,
    may_import,
    may_read,
    may_unmask,
    place_filter,
    place_of_person,
    require_read,
    scope_of,
    tag_or_error,
    visible_buildings,
    visible_grids,
    visible_households,
    visible_persons,
)

__all__ = [
    "CARED_STATUSES",
    "DEFAULT_FRESH_DAYS",
    "FIELD_LABELS",
    "LOOKUP_REFUSED",
    "PERSON_RELATED",
    "RECENT_VISIT_DAYS",
    "STREET_WIDE_ROLES",
    "Freshness",
    "Lookup",
    "Scope",
    "VisitRate",
    "active_tags",
    "address_of",
    "age_on",
    "assistance_list",
    "assistance_rows",
    "building_for",
    "cared",
    "conflict_place",
    "describe_counts",
    "display_value",
    "field_label",
    "forget_addresses",
    "freshness",
    "grid_or_error",
    "house_households",
    "household_for",
    "import_run_for",
    "import_runs",
    "lookup_in",
    "may_edit",
    "may_edit_place",
    "may_edit_somewhere",
    "may_import",
    "may_look_up",
    "may_read",
    "may_unmask",
    "members_of",
    "pending_conflict_count",
    "pending_conflicts",
    "person_for",
    "person_list",
    "person_out",
    "persons_with_places",
    "place_filter",
    "place_of_person",
    "point_for_address",
    "recent_visits_by",
    "require_look_up",
    "require_read",
    "reveal",
    "scope_of",
    "sources_of",
    "tag_or_error",
    "visible_buildings",
    "visible_grids",
    "visible_households",
    "visible_persons",
    "visit_candidates",
    "visits_of",
    "visits_per_week",
    "weekly_visit_rates",
]
