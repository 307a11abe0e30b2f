"""Every write of the registry by hand, one module per sub-domain:

- ``persons``: create a person, change their fields, move them into a household;
- ``care``: the care tags (关怀标签) of a person and the tags a street starts with;
- ``visits``: a grid worker's visit (探访) to a person of their area;
- ``merging``: 一数一源 — how a source's value meets the record's (fill, confirm or list a
  conflict), deciding a conflict, and the administrator's edits in the admin.

Files (persons, households, buildings) are imported by ``registry.importing`` with the same
merge rules. Every service first checks the permission table (``registry.edit``,
``registry.visit``), then the user's place (their grids, their community, or the whole
street for administrators), then the values; the rows change in one transaction.
"""

from .care import DEFAULT_TAGS, ensure_default_tags, tag_person, untag_person
from .merging import HEAD_FIELD, resolve_conflict, stamp_admin_change
from .persons import add_to_household, create_person, update_person
from .visits import VISIT_BACKDATE_DAYS, VISIT_NOTE_MAX, record_visit

__all__ = [
    "DEFAULT_TAGS",
    "HEAD_FIELD",
    "VISIT_BACKDATE_DAYS",
    "VISIT_NOTE_MAX",
    "add_to_household",
    "create_person",
    "ensure_default_tags",
    "record_visit",
    "resolve_conflict",
    "stamp_admin_change",
    "tag_person",
    "untag_person",
    "update_person",
]
