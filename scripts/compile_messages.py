#!/usr/bin/env python3
"""Compile the translation catalogues (src/jiedao/locale and each app's own locale/
folder, */LC_MESSAGES/django.po → .mo) with polib,
so that no GNU gettext installation is needed. Usage: .venv/bin/python scripts/compile_messages.py
[--check]: with --check, only report untranslated or fuzzy entries and exit 1 if the .mo is stale."""

import sys
from pathlib import Path

import polib

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "src" / "jiedao"


def compile_all(check=False) -> int:
    stale = 0
    for po_path in sorted(PACKAGE_DIR.glob("**/locale/*/LC_MESSAGES/django.po")):
        po = polib.pofile(str(po_path))
        mo_path = po_path.with_suffix(".mo")
        untranslated = len(po.untranslated_entries())
        fuzzy = len(po.fuzzy_entries())
        print(
            f"{po_path.relative_to(PACKAGE_DIR)}: {po.percent_translated()}% translated, {untranslated} untranslated, {fuzzy} fuzzy"
        )
        if check:
            if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
                print(f"{mo_path} is older than {po_path.name}; run scripts/compile_messages.py")
                stale += 1
            continue
        po.metadata_is_fuzzy = False
        po.save_as_mofile(str(mo_path))
        print(f"wrote {mo_path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(compile_all(check="--check" in sys.argv[1:]))
