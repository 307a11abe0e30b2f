"""Pages and API: who may open what, the cockpit's figures are the API's figures, links
lead to the records behind a figure, no inline scripts, every page string translated."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from jiedao.evaluation import compute, periods, selectors, services

from .conftest import MONTH_END

pytestmark = pytest.mark.django_db

PAGES = [
    "evaluation:library",
    "evaluation:rankings",
    "evaluation:warnings",
    "evaluation:evidence",
    "evaluation:report",
    "evaluation:cockpit",
    "evaluation:screen",
    "evaluation:records",
]


@pytest.fixture
def computed(november):
    compute.refresh_daily_counts(periods.parse("2026-11").start.date(), periods.parse("2026-11").end.date())
    compute.compute_period(periods.parse("2026-11"), now=MONTH_END)
    return november


@pytest.mark.parametrize("name", PAGES)
def test_pages_open_for_leader_and_evaluator_only(computed, login, evaluator, name):
    for user in (computed.users.leader, evaluator, computed.users.admin):
        assert login(user).get(reverse(name)).status_code == 200
    for user in (computed.users.dispatcher, computed.users.resident):
        assert login(user).get(reverse(name)).status_code == 403


def test_handlers_see_their_units_rectifications_only(street, login, evaluator):
    task = services.issue_rectification(
        evaluator, unit=street.units.enforcement, title="满意率偏低", requirement="分析原因"
    )
    page = login(street.users.handler).get(reverse("evaluation:warnings")).content.decode()
    assert task.number in page and "下达整改指令" not in page
    assert task.number not in login(street.users.handler_housing).get(reverse("evaluation:warnings")).content.decode()
    assert (
        login(street.users.handler_housing).get(reverse("evaluation:rectification", args=[task.number])).status_code
        == 404
    )
    client = login(street.users.handler)
    client.post(reverse("evaluation:rectification", args=[task.number]), {"action": "accept"})
    response = client.post(
        reverse("evaluation:rectification", args=[task.number]),
        {"action": "submit", "evidence": "已增加清运班次"},
        follow=True,
    )
    assert "待验收" in response.content.decode()
    assert "整改指令" in client.get("/", follow=True).content.decode()  # the handler's navigation


def test_navigation_links_for_leader_and_evaluator(street, login, evaluator):
    page = login(evaluator).get(reverse("evaluation:library")).content.decode()
    assert 'href="/cockpit/"' in page and 'href="/evaluation/"' in page


def test_library_page_shows_values_and_not_computable(computed, login, monkeypatch):
    from jiedao.evaluation import indicators as lib

    monkeypatch.setattr(lib.Indicator, "computable", lambda self: not self.source.startswith("jiedao.participation"))
    page = login(computed.users.leader).get(reverse("evaluation:library") + "?period=2026-11").content.decode()
    row = re.search(r'data-indicator="response_rate".*?</tr>', page, re.S).group(0)
    assert "50.0%" in row
    row = re.search(r'data-indicator="adoption_rate".*?</tr>', page, re.S).group(0)
    assert "尚不可计算" in row and "%" not in row.split("not-computable")[1].split("</td>")[0]


def test_api_returns_the_library_values_and_rankings(computed, login):
    client = login(computed.users.leader)
    library = client.get("/api/v1/indicators?period=2026-11").json()
    by_code = {i["code"]: i for i in library}
    assert by_code["response_rate"]["latest"] == pytest.approx(0.5)
    assert by_code["satisfaction_rate"]["resident"] is True and by_code["satisfaction_rate"]["target"] == 0.95
    values = client.get("/api/v1/indicators/satisfaction_rate/values?scope=community&period=2026-11").json()
    assert {v["scope_code"]: v["value"] for v in values["values"]} == pytest.approx(
        {"11010500101": 0.95, "11010500102": 0.0}
    )
    trend = client.get("/api/v1/indicators/response_rate/values?scope=street&period=month&last=3").json()
    assert len(trend["periods"]) == 3
    one = client.get("/api/v1/indicators/satisfaction_rate/values?scope=unit:ZHZF&period=2026-11").json()
    assert [v["display"] for v in one["values"]] == ["63.3%"]
    assert client.get("/api/v1/indicators/nope/values").status_code == 404
    assert client.get("/api/v1/indicators/hall_satisfaction/values?scope=grid").status_code == 422
    assert client.get("/api/v1/indicators/response_rate/values?period=2026-13").status_code == 422
    rankings = client.get("/api/v1/rankings?scheme=mass-satisfaction&period=2026-11&scope=unit").json()
    assert rankings["scheme"]["code"] == "mass-satisfaction" and rankings["period"] == "2026-11"
    api_rows = [(r["scope_code"], r["score"]) for r in rankings["rows"]]
    assert api_rows == [
        (r["scope_code"], r["score"])
        for r in selectors.rankings(computed.users.leader, "mass-satisfaction", "2026-11", "unit")["rows"]
    ]
    assert login(computed.users.handler).get("/api/v1/indicators").status_code == 403


def test_cockpit_figures_are_the_api_figures_and_link_to_records(computed, login):
    client = login(computed.users.leader)
    live = client.get("/api/v1/cockpit/live").json()
    counters = {c["key"]: c for c in live["counters"]}
    # Open at the real "now": C (reopened) and D (with ZJ) are open; both are past their limits.
    assert counters["open"]["value"] == 2 and counters["overdue"]["value"] == 2
    records = client.get(counters["overdue"]["url"]).content.decode()
    assert computed.cases["C"].number in records and computed.cases["A"].number not in records
    categories = client.get("/api/v1/cockpit/categories?period=2026-11").json()
    assert categories["total"] == 4 and categories["categories"][0]["name"] == "城乡建设"
    listed = client.get(categories["categories"][0]["url"]).content.decode()
    assert all(computed.cases[k].number in listed for k in "ABCD")
    trend = client.get("/api/v1/cockpit/trend?days=400").json()
    assert sum(d["count"] for d in trend) >= 0 and len(trend) == 400
    assert client.get("/api/v1/cockpit/trend?days=0").status_code == 422
    assert client.get("/api/v1/cockpit/hot-issues").status_code == 200


def test_templates_have_no_inline_scripts_and_charts_come_from_static():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "src" / "jiedao" / "evaluation" / "templates" / "evaluation"
    for path in folder.glob("*.html"):
        for tag in re.findall(r"<script[^>]*>", path.read_text()):
            assert "src=" in tag, (path.name, tag)
    static = folder.parents[1] / "static" / "evaluation"
    assert (static / "echarts.min.js").stat().st_size > 500_000
    assert "Apache License" in (static / "LICENSE-echarts.txt").read_text()


def test_report_button_downloads_both_files(computed, login):
    client = login(computed.users.leader)
    xlsx = client.get(reverse("evaluation:report") + "?month=2026-11&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = client.get(reverse("evaluation:report") + "?month=2026-11&format=pdf")
    assert pdf.content[:5] == b"%PDF-" and "attachment" in pdf["Content-Disposition"]


def test_evidence_page_records_a_score(street, login, evaluator):
    client = login(evaluator)
    response = client.post(
        reverse("evaluation:evidence"),
        {"scope": "community:11010500101", "month": "2026-11", "score": "88", "evidence": "开展楼门议事会"},
        follow=True,
    )
    assert "开展楼门议事会" in response.content.decode()
    response = client.post(
        reverse("evaluation:evidence"),
        {"scope": "community:11010500101", "month": "2026-11", "score": "88", "evidence": ""},
        follow=True,
    )
    assert "佐证材料" in response.content.decode()
    assert (
        login(street.users.leader)
        .post(
            reverse("evaluation:evidence"),
            {"scope": "community:11010500101", "month": "2026-11", "score": "1", "evidence": "abcdef"},
        )
        .status_code
        == 403
    )


def test_warnings_page_issues_a_task(street, login, evaluator):
    response = login(evaluator).post(
        reverse("evaluation:warnings"),
        {"unit": "ZHZF", "title": "退单率偏高", "requirement": "梳理派单依据"},
        follow=True,
    )
    assert "退单率偏高" in response.content.decode() and "已下达" in response.content.decode()
    page = login(evaluator).get(reverse("evaluation:warnings")).content.decode()
    assert "退单率偏高" in page


def test_indicator_page_marks_only_the_warned_scope(computed, login):
    from django.utils import timezone

    from jiedao.evaluation.models import Warning

    now = timezone.now()
    Warning.objects.create(
        kind="indicator",
        key="satisfaction_rate:community:11010500102",
        indicator="satisfaction_rate",
        scope_kind="community",
        scope_code="11010500102",
        level="red",
        title="西园社区：满意率 连续 3 周未达基线",
        opened_at=now,
        last_seen_at=now,
    )
    client = login(computed.users.leader)
    page = client.get(reverse("evaluation:indicator", args=["satisfaction_rate"]) + "?scope=community&period=2026-11")
    page = page.content.decode()
    west = re.search(r'data-scope="11010500102".*?</tr>', page, re.S).group(0)
    east = re.search(r'data-scope="11010500101".*?</tr>', page, re.S).group(0)
    assert "lamp-red" in west and "95.0%" in east and "lamp" not in east
    assert "85.0%" in page  # the baseline, shown as people read it
    other = client.get(reverse("evaluation:indicator", args=["response_rate"]) + "?scope=community&period=2026-11")
    assert "lamp-red" not in other.content.decode()


def test_the_pages_speak_english_on_request(computed, login):
    from django.utils import translation

    client = login(computed.users.leader)
    with translation.override("en"):
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        page = client.get(reverse("evaluation:library")).content.decode()
        assert "Indicator library" in page and "Higher is better" in page and 'href="/cockpit/">Cockpit' in page
        page = client.get(reverse("evaluation:rankings") + "?period=2026-11").content.decode()
        assert "Scores and rankings" in page and "Excellent" in page


def test_the_cockpit_hot_issues_are_the_worker_snapshot_and_say_when_it_is_late(street, login):
    """The cockpit never groups a week of cases while the leader waits: it shows the worker's
    latest snapshot, and when the worker is late it still shows it, with the time it was made."""
    from jiedao.cases import services as case_services
    from jiedao.evaluation.models import Snapshot

    now = timezone.now()
    texts = [
        "东湖小区北门夜间施工噪音扰民，凌晨还在施工",
        "北门工地夜间施工噪音太大，凌晨睡不着",
        "东湖小区北门工地凌晨施工噪音扰民",
        "北门夜间施工噪音扰民，请管一管",
    ]

    def report(i):
        case_services.submit_case(
            street.users.operator,
            channel="12345",
            description=texts[i % len(texts)],
            reporter_phone=f"1380000000{i}",
            grid_code=street.grids[0].code,
            category_code="010101",
            at=now - dt.timedelta(hours=i + 1),
        )

    for i in range(3):
        report(i)
    client = login(street.users.leader)
    # Before the worker has ever run for the street, the issues are computed on the spot.
    first = client.get("/api/v1/cockpit/hot-issues").json()
    assert [i["count"] for i in first["issues"]] == [3] and first["stale"] is False
    services.store_hot_issues(now)
    report(3)
    # The snapshot serves: the fourth report shows at the worker's next run.
    served = client.get("/api/v1/cockpit/hot-issues").json()
    assert [i["count"] for i in served["issues"]] == [3] and served["stale"] is False
    Snapshot.objects.update(computed_at=now - dt.timedelta(hours=2))
    late = client.get("/api/v1/cockpit/hot-issues").json()
    assert [i["count"] for i in late["issues"]] == [3] and late["stale"] is True
    made = dt.datetime.fromisoformat(late["computed_at"].replace("Z", "+00:00"))
    assert abs(made - (now - dt.timedelta(hours=2))) < dt.timedelta(seconds=1)
    services.store_hot_issues()
    fresh = client.get("/api/v1/cockpit/hot-issues").json()
    assert [i["count"] for i in fresh["issues"]] == [4] and fresh["stale"] is False
