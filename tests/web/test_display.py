"""长辈模式, the English switch, the translation catalogue and the fixed cost of list pages."""

import re
from pathlib import Path

import polib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import jiedao

SRC = Path(jiedao.__file__).resolve().parent
PO = SRC / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_elderly_switch_sets_the_cookie_and_changes_the_page(client, street):
    normal = client.get(reverse("web:portal")).content.decode()
    assert '<html lang="zh-Hans">' in normal and 'class="elderly' not in normal
    response = client.post(reverse("web:elderly"), {"on": "1", "next": "/portal/"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert response.cookies["jiedao_elderly"].value == "1"
    elderly = client.get(reverse("web:portal")).content.decode()
    assert '<html lang="zh-Hans" class="elderly">' in elderly
    assert '<body class="elderly' in elderly
    assert "退出长辈模式" in elderly
    # Optional parts are marked, and the style sheet hides them in elderly mode and doubles the type.
    name_field = re.search(r'<div class="field([^"]*)">\s*<label for="id_reporter_name"', elderly)
    assert name_field and "optional" in name_field.group(1)
    css = (SRC / "web" / "static" / "web" / "site.css").read_text()
    assert re.search(r"\.elderly \.optional \{ display: none", css)
    assert "html { font-size: 112.5%" in css and "html.elderly { font-size: 225%" in css
    off = client.post(reverse("web:elderly"), {"on": "0", "next": "/portal/"})
    assert off.cookies["jiedao_elderly"].value == ""
    assert 'class="elderly' not in client.get(reverse("web:portal")).content.decode()


def test_elderly_switch_refuses_foreign_redirects(client, street):
    response = client.post(reverse("web:elderly"), {"on": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_english_switch_renders_english_labels(client, street, login):
    client.post(reverse("set_language"), {"language": "en", "next": "/portal/"})
    page = client.get(reverse("web:portal")).content.decode()
    assert '<html lang="en">' in page
    assert "Report a problem" in page and "Use my position" in page and "Large text mode" in page
    assert "我要反映问题" not in page
    bad = client.post(reverse("web:portal"), {"description": "", "reporter_phone": "12"})
    assert "Please describe the problem" in bad.content.decode()
    leader = login(street.users.leader)
    leader.post(reverse("set_language"), {"language": "en", "next": "/"})
    overview = leader.get(reverse("cases:overview")).content.decode()
    assert "Resolution rate" in overview and "No data" in overview


def _template_strings():
    found = set()
    for folder in (SRC / "web" / "templates", SRC / "cases" / "templates"):
        for path in folder.rglob("*.html"):
            text = path.read_text()
            found |= set(re.findall(r"{% translate '([^']+)' %}", text))
            found |= set(re.findall(r'{% translate "([^"]+)" %}', text))
    return found


def test_every_page_string_has_an_english_translation():
    catalogue = {entry.msgid: entry for entry in polib.pofile(str(PO))}
    strings = _template_strings()
    assert len(strings) > 100
    missing = sorted(s for s in strings if s not in catalogue or not catalogue[s].translated())
    assert missing == []
    assert PO.with_suffix(".mo").stat().st_mtime >= PO.stat().st_mtime - 1


def _count_workbench_queries(client, expected_rows):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:workbench"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == expected_rows
    return len(queries)


def test_workbench_costs_the_same_number_of_queries_for_5_and_30_cases(street, login, make_case):
    client = login(street.users.handler_committee)
    for i in range(5):
        make_case(description=f"第{i}件：楼道堆物")
    few = _count_workbench_queries(client, 5)
    for i in range(25):
        make_case(description=f"再来第{i}件", lat=None, lng=None, unit="JWH01")
    many = _count_workbench_queries(client, 30)
    assert few == many


def test_workbench_pages_by_key_with_a_next_link(street, login, make_case):
    for i in range(31):
        make_case(description=f"第{i}件")
    client = login(street.users.handler_committee)
    first = client.get(reverse("cases:workbench"))
    assert len(first.context["rows"]) == 30 and first.context["next_url"]
    assert "下一页" in first.content.decode()
    second = client.get(reverse("cases:workbench") + first.context["next_url"])
    rows = second.context["rows"]
    assert len(rows) == 1 and rows[0].number not in {c.number for c in first.context["rows"]}
    assert second.context["next_url"] is None and "回到第一页" in second.content.decode()


def test_workbench_filters_by_search_and_urgency(street, login, make_case):
    lamp = make_case(description="路灯不亮")
    make_case(description="垃圾没清")
    client = login(street.users.handler_committee)
    rows = client.get(reverse("cases:workbench"), {"q": "路灯"}).context["rows"]
    assert [c.number for c in rows] == [lamp.number]
    assert client.get(reverse("cases:workbench"), {"urgency": "red"}).context["rows"] == []
