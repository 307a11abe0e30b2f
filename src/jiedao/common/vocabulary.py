"""The search vocabulary shipped with the product (data/vocabulary.csv): everyday words and the
formal terms of the category tree, the service hall's catalogue and the responsibility list they
stand for. Loaded into ``SearchTerm`` on installation; an administrator edits it afterwards."""

import csv
from pathlib import Path

DEFAULT_VOCABULARY = Path(__file__).parent / "data" / "vocabulary.csv"


def shipped() -> dict[str, str]:
    """word → terms as shipped."""
    with DEFAULT_VOCABULARY.open(encoding="utf-8", newline="") as f:
        return {row["word"].strip(): row["terms"].strip() for row in csv.DictReader(f) if row["word"].strip()}


def load_shipped(model) -> int:
    """Adds the shipped words that are missing (an edited or switched-off word is kept as the
    administrator left it); returns how many were added. ``model`` is ``SearchTerm`` (or its
    historical version in a migration)."""
    existing = set(model.objects.values_list("word", flat=True))
    rows = [model(word=w, terms=t) for w, t in shipped().items() if w not in existing]
    model.objects.bulk_create(rows)
    return len(rows)
