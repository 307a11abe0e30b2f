"""One meaning for every figure: 超期 and 临期 are the case page's rule (``rules.urgency_at``)
wherever they are counted or coloured — its SQL twins agree with it case by case, and the
overview, the cockpit, /metrics, the API, the map and the grid page show the same cases. The
overview's rates per unit are the figures of ``three_rates`` for each unit, and the cockpit's
monthly rates (the worker's results) are the overview's for the same month and moment."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from jiedao.cases import measures, services
from jiedao.cases.models import OPEN_STATUSES, Case, Rating, Status, Urgency
from jiedao.cases.rules import overdue_q, urgency_at
from jiedao.cases.selectors import cases_at_level, street_backlog, with_live_urgency
from jiedao.evaluation import compute, periods
from jiedao.evaluation import selectors as evaluation
from tests.evaluation.conftest import (  # noqa: F401  (the November street, and the shipped schemes after a flush)
    MONTH_END,
    _builtin_schemes,
    november,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def hand_built(street):
    """Cases in every position the deadline rule tells apart, as of NOW, each with a stored
    ``urgency`` that the rule must not read (the last sweep's, here deliberately wrong)."""
    counter = iter(range(1, 100))

    def case(name, status, *, dispatched=-5 * DAY, response=None, completion=None, rework=0, stored="green"):
        number = f"JD20261118{next(counter):05d}"
        row = Case.objects.create(
            number=number,
            channel="12345",
            description=name,
            status=status,
            street=street.street,
            unit=street.units.enforcement,
            created_at=NOW - 6 * DAY,
            dispatched_at=None if dispatched is None else NOW + dispatched,
            response_due=None if response is None else NOW + response,
            completion_due=None if completion is None else NOW + completion,
            rework_count=rework,
            urgency=stored,
        )
        row.name = name
        return row

    cases = [
        case("new, limits passed", Status.NEW, dispatched=None, response=-DAY, completion=-HOUR, stored="red"),
        case("waiting for the response past its limit", Status.DISPATCHED, response=-HOUR, completion=5 * DAY),
        case("waiting, response limit ahead", Status.DISPATCHED, dispatched=-HOUR, response=HOUR, completion=4 * DAY),
        case(
            "waiting, the response limit this very moment", Status.DISPATCHED, response=dt.timedelta(0), completion=DAY
        ),
        case("waiting without a response limit", Status.DISPATCHED, completion=5 * DAY, stored="red"),
        case("waiting, dispatch time unknown", Status.DISPATCHED, dispatched=None, response=-DAY, completion=DAY),
        case("handled, dispatch time unknown", Status.IN_PROGRESS, dispatched=None, completion=HOUR),
        case("responded late, completion ahead", Status.IN_PROGRESS, response=-4 * DAY, completion=5 * DAY),
        case("past the completion limit", Status.IN_PROGRESS, response=-4 * DAY, completion=-HOUR),
        case("a tenth of the time left", Status.IN_PROGRESS, dispatched=-9 * DAY, completion=DAY),
        case("a third of the time left", Status.IN_PROGRESS, dispatched=-2 * DAY, completion=DAY, stored="yellow"),
        case("no completion limit", Status.IN_PROGRESS, completion=None),
        case("waiting for verification, past", Status.VERIFYING, completion=-DAY, stored="red"),
        case("waiting for the rating, past", Status.RATING, completion=-DAY, stored="red"),
        case("closed, past", Status.CLOSED, completion=-DAY, stored="red"),
    ]
    # Reopened (重办) two days ago with three days to go: 60 % of the time since the reopening
    # is left (green), though only 30 % of the time since the first dispatch (yellow by that).
    reopened = case("reopened, clock restarted", Status.IN_PROGRESS, dispatched=-8 * DAY, completion=3 * DAY, rework=1)
    # Reopened nine days ago, a day to go: yellow either way.
    reopened_late = case("reopened long ago", Status.IN_PROGRESS, dispatched=-12 * DAY, completion=DAY, rework=1)
    for row, rated in ((reopened, NOW - 2 * DAY), (reopened_late, NOW - 9 * DAY)):
        Rating.objects.create(
            case=row,
            unit=row.unit,
            round=1,
            resolved=False,
            satisfaction="unsatisfied",
            source="callback",
            rated_at=rated,
        )
    return [*cases, reopened, reopened_late]


@pytest.mark.parametrize("offset", [dt.timedelta(0), -2 * HOUR, 30 * HOUR, 10 * DAY, -10 * DAY])
def test_the_sql_rule_is_the_case_pages_rule_case_by_case(street, offset):
    cases = hand_built(street)
    now = NOW + offset
    expected = {row.pk: urgency_at(Case.objects.get(pk=row.pk), now=now) for row in cases}
    overdue = set(Case.objects.filter(overdue_q(now)).values_list("pk", flat=True))
    assert overdue == {pk for pk, level in expected.items() if level == Urgency.RED}
    live = dict(with_live_urgency(Case.objects.all(), now=now).values_list("pk", "live_urgency"))
    assert live == expected
    for level in Urgency.values:
        found = set(cases_at_level(Case.objects.all(), level, now=now).values_list("pk", flat=True))
        assert found == {pk for pk, got in expected.items() if got == level}, level
    # The cockpit's counters, counted in parts for the index's sake, are the same cases.
    backlog = street_backlog(street.street.pk, now=now)
    assert backlog.overdue == len(overdue)
    assert backlog.open == Case.objects.filter(status__in=OPEN_STATUSES).count()


def test_the_hand_built_cases_cover_every_level_and_the_stored_column_is_not_read(street):
    cases = hand_built(street)
    levels = {row.name: urgency_at(Case.objects.get(pk=row.pk), now=NOW) for row in cases}
    assert levels["waiting for the response past its limit"] == Urgency.RED
    assert levels["waiting, the response limit this very moment"] != Urgency.RED  # not yet past it
    assert levels["past the completion limit"] == Urgency.RED
    assert levels["a tenth of the time left"] == Urgency.YELLOW
    assert levels["reopened, clock restarted"] == Urgency.GREEN
    assert levels["reopened long ago"] == Urgency.YELLOW
    assert levels["waiting for verification, past"] == Urgency.GREEN
    assert levels["waiting, dispatch time unknown"] == Urgency.RED  # red reads the limits alone
    assert levels["handled, dispatch time unknown"] == Urgency.GREEN  # yellow needs the dispatch
    stored = {row.name: row.urgency for row in cases}
    assert any(stored[name] != level for name, level in levels.items())
    # The red cases are red, whatever the sweep stored.
    red = set(Case.objects.filter(overdue_q(NOW)).values_list("description", flat=True))
    assert red == {
        "waiting for the response past its limit",
        "past the completion limit",
        "waiting, dispatch time unknown",
    }


# --- every page and figure shows the same overdue cases -------------------------------------


def _metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_every_page_and_figure_counts_the_same_overdue_cases(street, login, make_case, client):
    u = street.users
    now = timezone.now()
    late_answer = make_case(description="路灯不亮，一直没人回电话")
    late_result = make_case(description="井盖松动，早该修好")
    services.respond(u.handler_committee, number=late_result.number)
    on_time = make_case(description="楼道堆放杂物")
    services.respond(u.handler_committee, number=on_time.number)
    waiting_rating = make_case(description="小区门口积水")
    services.respond(u.handler_committee, number=waiting_rating.number)
    services.resolve(u.handler_committee, number=waiting_rating.number, result="已疏通")
    # The limits as time has moved them; the stored level is the opposite of the truth, as
    # it is between two deadline sweeps.
    Case.objects.filter(pk=late_answer.pk).update(response_due=now - HOUR, urgency="green")
    Case.objects.filter(pk=late_result.pk).update(completion_due=now - HOUR, urgency="green")
    Case.objects.filter(pk=on_time.pk).update(completion_due=now + 3 * DAY, urgency="red")
    Case.objects.filter(pk=waiting_rating.pk).update(completion_due=now - DAY, urgency="red")
    red = {late_answer.number, late_result.number}
    others = {on_time.number, waiting_rating.number}

    leader = login(u.leader)
    attention = leader.get(reverse("cases:overview")).content.decode().split('id="attention"')[1]
    assert all(number in attention for number in red) and not any(number in attention for number in others)

    live = leader.get("/api/v1/cockpit/live").json()
    overdue = next(c for c in live["counters"] if c["key"] == "overdue")
    assert overdue["value"] == len(red)
    records = leader.get(overdue["url"]).content.decode()
    assert all(number in records for number in red) and not any(number in records for number in others)

    listed = leader.get("/api/v1/cases", {"urgency": "red"}).json()["items"]
    assert {item["number"] for item in listed} == red
    assert {item["urgency"] for item in listed} == {"red"}
    green = {
        item["number"]: item["urgency"] for item in leader.get("/api/v1/cases", {"urgency": "green"}).json()["items"]
    }
    assert others <= set(green) and set(green.values()) == {"green"}
    assert leader.get(f"/api/v1/cases/{late_answer.number}").json()["urgency"] == "red"
    assert leader.get(f"/api/v1/cases/{on_time.number}").json()["urgency"] == "green"

    points = leader.get("/api/v1/geo/cases").json()["features"]
    assert {p["properties"]["number"] for p in points if p["properties"]["urgency"] == "red"} == red
    grid = Case.objects.get(pk=late_answer.pk).grid
    in_grid = Case.objects.filter(number__in=red, grid=grid).count()
    page = leader.get(reverse("geo:grid", args=[grid.code])).content.decode()
    assert f'data-count="red">{in_grid}<' in page

    case_page = leader.get(reverse("cases:case", args=[late_answer.number])).content.decode()
    assert "badge-red" in case_page
    assert "badge-red" not in leader.get(reverse("cases:case", args=[on_time.number])).content.decode()

    workbench = login(u.handler_committee).get(reverse("cases:workbench"))
    tiles = {tile["key"]: tile["value"] for tile in workbench.context["tiles"]}
    held = Case.objects.filter(number__in=red, unit=u.handler_committee.unit).count()
    assert held and tiles["overdue"] == held

    client.logout()
    assert _metric(client.get("/metrics").content.decode(), "jiedao_cases_overdue") == len(red)


def test_the_live_figures_say_so_with_the_time(street, login, make_case):
    make_case()
    leader = login(street.users.leader)
    page = leader.get(reverse("cases:overview")).content.decode()
    local = timezone.localtime()
    assert re.search(r"实时，截至今天 \d\d:\d\d", page) and f"本月（{local:%Y-%m}）" in page
    earlier = leader.get(reverse("cases:overview"), {"month": "2026-10"}).content.decode()
    assert "2026-10 全月" in earlier and "实时，截至今天" not in earlier
    live = leader.get("/api/v1/cockpit/live").json()
    assert re.fullmatch(r"实时 · 截至 \d\d:\d\d", live["as_of"])
    assert live["period_label"] == f"本月 {live['month']}"  # nothing computed yet: no time to show
    cockpit = leader.get(reverse("evaluation:cockpit")).content.decode()
    assert cockpit.count('data-note="live"') == 3 and cockpit.count('data-note="month"') == 3


# --- the rates: per unit as for one unit; the cockpit's as the overview's ---------------------


def test_the_overview_rows_are_three_rates_of_each_unit(november):  # noqa: F811
    at = MONTH_END - HOUR
    rows = measures.three_rates_by_unit("2026-11", now=at, street=november.street)
    assert [row.unit_code for row in rows] and {row.unit_code for row in rows} == {"ZHZF", "ZJ"}
    for row in rows:
        one = measures.three_rates("2026-11", row.unit_code, now=at)
        mine, alone = row.as_dict(), one.as_dict()
        assert mine.keys() == alone.keys()
        for key, value in mine.items():
            assert value == (pytest.approx(alone[key]) if isinstance(value, float) else alone[key]), (
                row.unit_code,
                key,
            )


def test_the_cockpits_monthly_rates_are_the_overviews_for_the_same_month_and_moment(november, login):  # noqa: F811
    at = MONTH_END - HOUR
    month = periods.parse("2026-11")
    compute.compute_period(month, now=at)
    live = evaluation.cockpit_live(november.users.leader, now=at)
    assert live["month"] == "2026-11" and "统计于 11-30 23:00" in live["period_label"]
    cockpit = {rate["code"]: rate["value"] for rate in live["rates"]}
    overview = measures.three_rates("2026-11", now=at, street=november.street)
    assert cockpit == pytest.approx(
        {
            "response_rate": overview.response_rate,
            "resolution_rate": overview.resolution_rate,
            "satisfaction_rate": overview.satisfaction_rate,
        }
    )
    # And on the pages: the overview's street figures are the indicator library's for 2026-11.
    client = login(november.users.leader)
    page = client.get(reverse("cases:overview"), {"month": "2026-11"}).content.decode()
    library = client.get(reverse("evaluation:library"), {"period": "2026-11"}).content.decode()
    for code, rate in (("response_rate", "response"), ("satisfaction_rate", "satisfaction")):
        shown = re.search(rf'data-rate="{rate}">([\d.]+)%<', page).group(1)
        row = re.search(rf'data-indicator="{code}".*?</tr>', library, re.S).group(0)
        listed = re.search(r'<td class="value"><a class="figure"[^>]*>([\d.]+)%</a></td>', row).group(1)
        assert float(shown) == float(listed), (code, shown, listed)


def test_with_desk_answers_counted_the_cockpit_and_the_overview_still_agree(november, settings):  # noqa: F811
    from jiedao.cases import services as case_services

    at = MONTH_END - HOUR
    for words in ("请问居住证怎么办", "请问老年证在哪办"):
        case_services.submit_case(
            november.users.operator,
            channel="12345",
            description=words,
            outcome="answered",
            answer="到便民服务中心办理。",
            at=at - HOUR,
        )
    settings.JIEDAO = {**settings.JIEDAO, "DESK_OUTCOMES_IN_RATES": {"answered": True, "advised": False}}
    month = periods.parse("2026-11")
    compute.compute_period(month, now=at)
    cockpit = {r["code"]: r["value"] for r in evaluation.cockpit_live(november.users.leader, now=at)["rates"]}
    overview = measures.three_rates("2026-11", now=at, street=november.street)
    without = {**settings.JIEDAO["DESK_OUTCOMES_IN_RATES"], "answered": False}
    settings.JIEDAO = {**settings.JIEDAO, "DESK_OUTCOMES_IN_RATES": without}
    plain = measures.three_rates("2026-11", now=at, street=november.street)
    # The two answered calls moved the street's rates, the same on both pages.
    assert overview.response_rate != plain.response_rate
    assert cockpit["response_rate"] == pytest.approx(overview.response_rate)
    assert cockpit["resolution_rate"] == pytest.approx(overview.resolution_rate)


@pytest.mark.browser
def test_the_cockpit_in_a_browser_says_which_figures_are_live_and_which_of_the_month(
    live_server,
    november,  # noqa: F811
    browser,
):
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    compute.compute_period(periods.of("month"))
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/cockpit/")
    expect(page.locator("#cockpit[data-loaded='1']")).to_have_count(1)
    month = periods.of("month").key
    for counter in ("today", "open", "overdue"):
        expect(page.locator(f'[data-counter="{counter}"] .counter-note')).to_have_text(
            re.compile(r"^实时 · 截至 \d\d:\d\d$")
        )
    for rate in ("response_rate", "resolution_rate", "satisfaction_rate"):
        expect(page.locator(f'[data-rate="{rate}"] .counter-note')).to_have_text(
            re.compile(rf"^本月 {month} · 统计于 \d\d-\d\d \d\d:\d\d$")
        )
    expect(page.locator('[data-note="rates"]')).to_contain_text("每月统计结果")
    expect(page.locator('[data-note="ranking"]')).to_have_text(f"本月 {month}")
    # 超期 here is the case page's: C (reopened, past its new limit) and D (never answered).
    expect(page.locator('[data-counter="overdue"] .counter-value')).to_have_text("2")
