"""The staff schemes of the documents: window staff 30/30/40 and grid workers 30/40/30
(基础工作 / 事件处置 / 群众满意度), each ranking only the people of its role, scored by hand.

November 2026, two grid workers of the street (grid, grid2) and a handler with figures of the
same indicators (left out: the scheme scores grid workers):

| | 巡查 | 探访 | 自行处置 | 解决率 | 满意率 |
| --- | ---: | ---: | ---: | ---: | ---: |
| grid | 10 | 4 | 3 | 0.90 | 0.95 |
| grid2 | 5 | 8 | 1 | 0.76 | 0.855 |

Counts have no target: best/worst among the two (best 100, worst 0). Rates against their
targets (0.95 both): grid 0.90/0.95 = 94.74, 0.95/0.95 = 100; grid2 0.76/0.95 = 80, 0.855/0.95 = 90.
grid  = (15×100 + 15×0 + 20×100 + 20×94.7368 + 30×100) / 100 = 83.95 → 合格 (60 ≤ score < 90)
grid2 = (15×0 + 15×100 + 20×0 + 20×80 + 30×90) / 100 = 58.00 → 待改进
"""

import pytest
from django.utils import timezone

from jiedao.evaluation import indicators as lib
from jiedao.evaluation import selectors
from jiedao.evaluation.models import Result, Scheme
from jiedao.evaluation.scoring import MIN_WEIGHT_SHARE, resident_share
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

FIGURES = {
    "grid": {
        "person_grid_patrols": 10,
        "visits_done": 4,
        "person_grid_self_resolved": 3,
        "person_grid_resolution": 0.90,
        "person_grid_satisfaction": 0.95,
    },
    "grid2": {
        "person_grid_patrols": 5,
        "visits_done": 8,
        "person_grid_self_resolved": 1,
        "person_grid_resolution": 0.76,
        "person_grid_satisfaction": 0.855,
    },
    "handler": {"person_grid_patrols": 30, "person_grid_satisfaction": 1.0},
}


@pytest.fixture
def november(street):
    now = timezone.now()
    for person, figures in FIGURES.items():
        for code, value in figures.items():
            Result.objects.create(
                indicator=code,
                scope_kind="person",
                scope_code=person,
                scope_name=person,
                period_kind="month",
                period_key="2026-11",
                value=value,
                computed_at=now,
            )
    return street


@pytest.mark.parametrize(("code", "parts"), [("window-staff", (30, 30, 40)), ("grid-staff", (30, 40, 30))])
def test_the_documents_splits_are_shipped_with_resident_evaluation_at_half(street, code, parts):
    scheme = Scheme.objects.get(code=code)
    items = list(scheme.items.all())
    by_part: dict[str, float] = {}
    for item in items:
        by_part[item.perspective] = by_part.get(item.perspective, 0) + item.weight
        assert "person" in lib.get(item.indicator).scopes
    assert [round(by_part[p] * 100) for p in ("基础工作", "事件处置", "群众满意度")] == list(parts)
    assert resident_share([(i.indicator, i.weight) for i in items]) >= MIN_WEIGHT_SHARE


def test_the_grid_scheme_ranks_the_grid_workers_only_scored_by_hand(november, evaluator):
    data = selectors.rankings(evaluator, "grid-staff", "2026-11", "community")
    assert data["scope"] == "person"
    rows = {r["scope_code"]: r for r in data["rows"]}
    assert set(rows) == {"grid", "grid2"}  # the handler is not a grid worker
    assert rows["grid"]["score"] == 83.95 and rows["grid"]["grade"] == "pass" and rows["grid"]["rank"] == 1
    assert rows["grid2"]["score"] == 58.0 and rows["grid2"]["grade"] == "improve" and rows["grid2"]["rank"] == 2


def test_the_rankings_page_shows_the_people_and_the_parts(november, evaluator, client):
    client.login(username=evaluator.username, password=PASSWORD)
    page = client.get("/evaluation/rankings/", {"scheme": "grid-staff", "period": "2026-11"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "对象：网格员" in text and '<select id="scope"' not in text
    assert "基础工作·巡查次数 15%" in text and "群众满意度·网格群众满意率 30%" in text
    assert text.index("83.95") < text.index("58.0")
