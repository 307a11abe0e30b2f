"""Every measure is explained so that it cannot mislead: each indicator of the library has
a formula, its source records and a worked example whose arithmetic is right; the measures
page links each figure to that explanation on the indicator's page; docs/measures.md lists
every indicator as ``scripts/measures_doc.py`` writes it; and the 考核建议 are listed, not
edited, in the admin."""

import html
import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from jiedao.evaluation import examples, indicators
from jiedao.evaluation.models import Assessment
from jiedao.org.models import Unit

ROOT = Path(__file__).resolve().parents[2]
CODES = [indicator.code for indicator in indicators.INDICATORS]


def _script():
    spec = importlib.util.spec_from_file_location("measures_doc", ROOT / "scripts" / "measures_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _zh(text) -> str:
    with translation.override("zh-hans"):
        return str(text)


# --- the entries ------------------------------------------------------------------------------

DEVELOPER_WORDS = re.compile(r"[A-Za-z]+_[A-Za-z_]+|jiedao|\.py\b|/api/|settings|JIEDAO|[A-Za-z]+\(")


def test_every_indicator_of_the_library_has_a_formula_records_and_an_example():
    missing = [code for code in CODES if examples.worked(code) is None]
    assert missing == [], f"examples.py: write the formula, records and example of {missing}"
    for code in CODES:
        worked = examples.worked(code)
        for part in ("formula", "records", "example"):
            text = _zh(getattr(worked, part))
            assert text.strip(), (code, part)
            assert not DEVELOPER_WORDS.search(text), (code, part, text)
        assert re.search(r"\d", _zh(worked.example)) and "=" in _zh(worked.example), code


ARITHMETIC = re.compile(r"[\d.()+×÷−\s]*\d[\d.()+×÷−\s]*(?:=[\d.()+×÷−\s]+)+%?")


def _value(expression: str) -> float:
    source = expression.replace("×", "*").replace("÷", "/").replace("−", "-").strip()
    assert re.fullmatch(r"[\d.()+\-*/\s]+", source), expression
    return eval(source, {"__builtins__": {}})


def _agrees(value: float, shown: str, percent: bool) -> bool:
    decimals = len(shown.partition(".")[2])
    tolerance = 0.5 * 10**-decimals + 1e-9
    number = float(shown)
    candidates = [value, value * 100] if percent else [value]
    return any(abs(candidate - number) <= tolerance for candidate in candidates)


@pytest.mark.parametrize("code", sorted(examples.WORKED))
def test_the_worked_example_computes_what_it_says(code):
    """Each '… = result' in the example is recomputed: every step of the chain gives the
    figure written at its end (a rate as a fraction or in per cent)."""
    example = _zh(examples.worked(code).example)
    chains = [m.group(0) for m in ARITHMETIC.finditer(example) if "=" in m.group(0)]
    assert chains, example
    for chain in chains:
        percent = chain.rstrip().endswith("%")
        *steps, result = (part.strip() for part in chain.rstrip("% ").split("="))
        for step in steps:
            assert _agrees(_value(step), result, percent), f"{code}: {step} ≠ {result} in “{example}”"


def test_an_example_with_wrong_arithmetic_is_caught():
    assert not _agrees(_value("38 ÷ 40"), "90.0", True)
    assert _agrees(_value("38 ÷ 40"), "95.0", True)
    assert _agrees(_value("(30 + 0.9 × 8) ÷ 40"), "93.0", True)


# --- the pages --------------------------------------------------------------------------------


class _Figures(HTMLParser):
    """The links of the 全街道 cells of the library: {indicator code: href}."""

    def __init__(self):
        super().__init__()
        self.row, self.in_value, self.links = None, False, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-indicator" in attrs:
            self.row = attrs["data-indicator"]
        elif tag == "td" and "value" in (attrs.get("class") or "").split():
            self.in_value = True
        elif tag == "a" and self.in_value and self.row:
            self.links[self.row] = attrs.get("href")

    def handle_endtag(self, tag):
        if tag == "td":
            self.in_value = False
        elif tag == "tr":
            self.row = None


@pytest.mark.django_db
def test_each_figure_of_the_measures_page_links_to_how_it_is_computed(street, login, evaluator):
    client = login(evaluator)
    page = client.get(reverse("evaluation:library"), {"period": "2026-11"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "计算公式、数据来源和计算示例" in text
    parser = _Figures()
    parser.feed(text)
    assert sorted(parser.links) == sorted(CODES)
    for code in CODES:
        href = html.unescape(parser.links[code])
        path, _sep, fragment = href.partition("#")
        assert fragment == "definition", href
        assert path.startswith(reverse("evaluation:indicator", args=[code])) and "period=2026-11" in path, href
        shown = client.get(path)
        assert shown.status_code == 200, href
        body = shown.content.decode()
        assert 'id="definition"' in body
        worked = examples.worked(code)
        for label, part in (("计算公式", worked.formula), ("数据来源", worked.records), ("计算示例", worked.example)):
            assert label in body and html.escape(_zh(part)) in body, (code, label)


@pytest.mark.django_db
def test_the_indicator_page_explains_in_english_too(street, login, evaluator):
    client = login(evaluator)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("evaluation:indicator", args=["response_rate"])).content
    body = html.unescape(body.decode())
    assert "Formula" in body and "Worked example" in body and "38 ÷ 40 = 95.0%" in body
    assert "在响应时限内响应的工单数" not in body


# --- docs/measures.md ---------------------------------------------------------------------------


def test_docs_list_every_indicator_as_the_script_writes_it():
    script = _script()
    doc = (ROOT / "docs" / "measures.md").read_text(encoding="utf-8")
    generated = script.section()
    assert script.current(doc) == generated, (
        "docs/measures.md: the section 指标一览 is out of date — run .venv/bin/python scripts/measures_doc.py"
    )
    for code in CODES:
        assert f"`{code}`" in generated
        assert _zh(examples.worked(code).example) in generated


def test_the_script_replaces_only_its_own_section():
    script = _script()
    text = f"# 指标口径\n\n手写的说明。\n\n{script.BEGIN}\n旧的内容\n{script.END}\n\n## 之后\n"
    new = script.updated(text, f"{script.BEGIN}\n新的内容\n{script.END}")
    assert new == f"# 指标口径\n\n手写的说明。\n\n{script.BEGIN}\n新的内容\n{script.END}\n\n## 之后\n"
    added = script.updated("# 指标口径\n", f"{script.BEGIN}\n新\n{script.END}")
    assert added == f"# 指标口径\n\n{script.BEGIN}\n新\n{script.END}\n"


# --- 考核建议 in the admin --------------------------------------------------------------------------


@pytest.mark.django_db
def test_assessments_are_listed_in_the_admin_but_recorded_only_on_their_page(street, client):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    Assessment.objects.create(
        person=street.users.handler_housing,
        unit=Unit.objects.get(code="ZJ"),
        period="2026-Q4",
        grade=Assessment.Grade.EXCELLENT,
        opinion="牵头完成老旧小区改造协调",
        entered_by=street.users.leader,
        entered_at=timezone.now(),
    )
    listing = client.get(reverse("admin:evaluation_assessment_changelist"))
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "2026-Q4" in text and "优秀" in text and str(street.users.handler_housing) in text

    def shown(**query):
        return client.get(reverse("admin:evaluation_assessment_changelist"), query).context["cl"].result_count

    assert shown(q=street.users.handler_housing.username) == 1 and shown(q="无此人") == 0
    assert shown(grade="excellent") == 1 and shown(grade="competent") == 0
    assert shown(period="2026-Q4") == 1 and shown(period="2026-Q3") == 0
    assert client.get(reverse("admin:evaluation_assessment_add")).status_code == 403
    row = Assessment.objects.get()
    change = client.post(reverse("admin:evaluation_assessment_change", args=[row.pk]), {"grade": "incompetent"})
    assert change.status_code in (200, 403)
    assert Assessment.objects.get().grade == Assessment.Grade.EXCELLENT
    assert client.post(reverse("admin:evaluation_assessment_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert Assessment.objects.count() == 1
