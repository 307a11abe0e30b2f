"""Loads the 3-level category tree from a CSV with columns level1, level2, level3.

The default tree is the real complaint taxonomy shipped in ``fixtures/`` (15 top
categories, 517 leaves). Codes are two digits per level: 01, 0103, 010307.
Loading is idempotent: existing categories (by path) are kept with their settings. A new
category whose name is a dispute's (``rules.is_dispute_name``: 邻里纠纷, 司法调解, names with
纠纷 or 矛盾) is marked 矛盾纠纷类.
"""

import csv
from pathlib import Path

from django.db import transaction

from .models import Category
from .rules import is_dispute_name

DEFAULT_TAXONOMY = Path(__file__).parent / "fixtures" / "complaint_taxonomy.csv"


@transaction.atomic
def load_taxonomy(path=DEFAULT_TAXONOMY) -> int:
    """Creates missing categories; returns how many were created."""
    existing = {}
    for cat in Category.objects.all():
        existing[(cat.parent_id, cat.name)] = cat
    children_count = {}
    for cat in existing.values():
        children_count[cat.parent_id] = children_count.get(cat.parent_id, 0) + 1
    created = 0

    def get_or_make(parent, name, level):
        nonlocal created
        key = (parent.pk if parent else None, name)
        if key in existing:
            return existing[key]
        children_count[key[0]] = children_count.get(key[0], 0) + 1
        code = (parent.code if parent else "") + f"{children_count[key[0]]:02d}"
        cat = Category.objects.create(
            parent=parent, name=name, level=level, code=code, is_dispute=is_dispute_name(name)
        )
        existing[key] = cat
        created += 1
        return cat

    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            top = get_or_make(None, row["level1"].strip(), 1)
            mid = get_or_make(top, row["level2"].strip(), 2)
            get_or_make(mid, row["level3"].strip(), 3)
    return created
