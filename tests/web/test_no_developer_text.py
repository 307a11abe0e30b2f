"""No developer text on the pages street leaders, evaluators and administrators read: no Python
paths, raw filters ("status=open overdue=1"), command lines, API paths, indicator codes or
model and field names — on every page of the site (the Django admin, the administrators'
raw-data tool, left aside), rendered on a small street with a month of cases and its results."""

import html
import re

import pytest
from django.apps import apps
from django.urls import NoReverseMatch, reverse

from jiedao.evaluation import compute, periods, services
from jiedao.evaluation import indicators as lib
from tests import urlwalk
from tests.evaluation.conftest import MONTH_END, evaluator, november  # noqa: F401  (fixtures: the November street)

pytestmark = pytest.mark.django_db

PATTERNS = {
    "a Python path": r"\bjiedao\.\w",
    "a raw filter": r"\b\w+=[^\s=]+ \w+=",
    "an API path": r"/api/v\d",
    "a virtual environment": r"\.venv/bin",
    "manage.py": r"\bmanage\.py\b",
    "a command line": r"\bjiedao [a-z]+\b|(?<![\w-])--[a-z][a-z-]+",
    "a model label": r"\b[a-z]+\.[A-Z][a-z]+\b",
}
# Names only code knows: the indicators' codes and the field names of the records behind the pages.
MODELS = ("cases.Case", "cases.CaseEvent", "cases.Rating", "evaluation.Result", "evaluation.Warning")


def code_words():
    words = {indicator.code for indicator in lib.INDICATORS}
    for label in MODELS:
        words |= {field.name for field in apps.get_model(label)._meta.concrete_fields if "_" in field.name}
    return words


def visible(page):
    """What a person reads: the text between the tags and the titles, placeholders, labels."""
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    said = re.findall(r'(?:title|placeholder|aria-label|alt)="([^"]*)"', page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + " ".join(said))


def developer_text(text, words):
    found = [f"{what}: {m.group(0)!r}" for what, pattern in PATTERNS.items() for m in re.finditer(pattern, text)]
    found += [f"a code: {word!r}" for word in re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text) if word in words]
    return found


@pytest.fixture
def month(november, evaluator):  # noqa: F811
    """November computed as the worker does, a warning's rectification task, and the cockpit's rollups."""
    november_period = periods.parse("2026-11")
    compute.refresh_daily_counts(november_period.start.date(), november_period.end.date())
    compute.compute_period(november_period, now=MONTH_END)
    compute.compute_period(periods.of("month"))
    task = services.issue_rectification(
        evaluator, unit=november.units.enforcement, title="响应率偏低", requirement="分析原因并整改"
    )
    november.task = task
    return november


def samples(street):
    cases = [{"number": case.number} for case in street.cases.values()]
    return {
        "cases:case": cases,
        "geo:grid": [{"code": grid.code} for grid in street.grids[:1]],
        "evaluation:indicator": [{"code": indicator.code} for indicator in lib.INDICATORS],
        "evaluation:rectification": [{"number": street.task.number}],
    }


def pages_of(street):
    by_name = samples(street)
    for page in urlwalk.pages():
        for kwargs in by_name.get(page.name, [{}]):
            try:
                yield reverse(page.name, kwargs=kwargs)
            except NoReverseMatch:
                continue  # a page of a record the small street does not have


def test_no_page_shows_developer_text(month, login, evaluator):  # noqa: F811
    words = code_words()
    found, read = [], 0
    extra = [
        reverse("cases:overview") + "?month=2026-11",
        reverse("evaluation:library") + "?period=2026-11",
        reverse("evaluation:records")
        + "?status=open&overdue=1&community=11010500101&since=2026-11-01&until=2026-11-30",
    ]
    for user in (month.users.leader, evaluator, month.users.admin):
        client = login(user)
        for url in [*pages_of(month), *extra]:
            if user != month.users.leader and url.startswith("/evaluation/indicators/"):
                continue  # the same pages for everybody who may read them: once is enough
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            read += 1
            found += [
                f"{user.username} {url} {what}" for what in developer_text(visible(response.content.decode()), words)
            ]
    assert read > 100  # the walk did read the pages
    assert found == []


def test_the_records_page_says_its_filters_in_words(month, login):
    url = reverse("evaluation:records") + "?status=open&overdue=1&community=11010500102&since=2026-11-01&unit=ZJ"
    text = visible(login(month.users.leader).get(url).content.decode())
    assert "在办" in text and "超期" in text and "西园社区" in text and "区住建委派驻组" in text
    assert "受理日期从 2026-11-01 起" in text
    assert month.cases["D"].number in text  # held by 区住建委派驻组 in 西园社区, never answered


def test_the_check_finds_what_it_looks_for():
    words = code_words()
    examples = [
        "计算函数 jiedao.evaluation.indicators.response_rate",
        "筛选条件：street=110105001 status=open overdue=1",
        "设备向 POST /api/v1/sensors/readings 上报",
        "命令行：jiedao report monthly 2026-10 --out 目录",
        "运行 .venv/bin/jiedao 或 manage.py",
        "cases.Case",
        "指标 response_rate",
        "字段 completion_due",
    ]
    assert [bool(developer_text(example, words)) for example in examples] == [True] * len(examples)
    assert developer_text("超期工单 3 件，响应率 50.0%，截至 10:15；handler_zj 已响应", words) == []
