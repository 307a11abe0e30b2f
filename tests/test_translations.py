"""Every string of every app's pages has an English translation in that app's own catalogue
(src/jiedao/<app>/locale/en), and the compiled catalogue is up to date. The pages of the
main catalogue (web, cases) are checked in tests/web/test_display.py."""

import re
from pathlib import Path

import polib
import pytest

import jiedao

SRC = Path(jiedao.__file__).resolve().parent
APPS = sorted(
    po.parents[3].name for po in SRC.glob("*/locale/en/LC_MESSAGES/django.po") if (po.parents[3] / "templates").is_dir()
)


def test_the_apps_with_their_own_catalogue_are_found():
    assert {"registry", "hall", "emergency", "evaluation", "intelligence", "participation"} <= set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_every_page_string_of_the_app_has_an_english_translation(app):
    folder = SRC / app
    po = folder / "locale" / "en" / "LC_MESSAGES" / "django.po"
    catalogue = {entry.msgid: entry for entry in polib.pofile(str(po))}
    strings = set()
    for path in (folder / "templates").rglob("*.html"):
        text = path.read_text()
        strings |= set(re.findall(r"{% translate '([^']+)' %}", text))
        strings |= set(re.findall(r'{% translate "([^"]+)" %}', text))
    assert strings
    # The template tag looks a literal up with "%" doubled, as the catalogue stores it.
    msgids = {s.replace("%", "%%") for s in strings}
    assert sorted(s for s in msgids if s not in catalogue or not catalogue[s].translated()) == []
    assert po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime - 1
