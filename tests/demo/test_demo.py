"""The demo street and its simulated history: what a visitor of the demo relies on."""

import datetime as dt
import io
import itertools
import re
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection

from jiedao.cases import measures, routing, states
from jiedao.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseNumberCounter,
    Category,
    Extension,
    Rating,
    Status,
    Supervision,
    Urgency,
    Whistle,
    WhistleSummons,
)
from jiedao.demo import builder, simulate
from jiedao.geo.locate import locate
from jiedao.org.management.commands.serve import default_workers
from jiedao.org.models import Grid, Street, Unit, User
from jiedao.org.roles import ALL_ROLES
from jiedao.workcal.calendar import SHANGHAI

# A fixed "now" keeps the simulated history the same on every run.
NOW = dt.datetime(2026, 11, 18, 7, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(db):
    return builder.build()


@pytest.fixture
def history(demo):
    out = io.StringIO()
    counts = simulate.simulate(cases=300, days=60, now=NOW, out=out)
    return counts, out.getvalue()


def test_every_demo_account_signs_in_with_its_role(demo):
    for username, role, _name, _about in builder.DEMO_ACCOUNTS:
        user = authenticate(username=username, password=builder.DEMO_PASSWORD)
        assert user is not None, username
        assert role in user.role_codes
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="handler").unit.name == "综合执法队"
    assert User.objects.get(username="grid").grids.count() == 2
    for role in ALL_ROLES:
        assert User.objects.filter(groups__name=role).exists(), role
    for unit in Unit.objects.all():
        assert User.objects.filter(username=f"handler_{unit.code.lower()}", unit=unit).exists()
    for grid in Grid.objects.all():
        assert grid.workers.exists(), grid.code
        # The grid team: its full-time worker signs in, part-time workers and 楼门长 by name and phone.
        roles = Counter(grid.members.values_list("role", flat=True))
        assert roles["full_time"] >= 1 and roles["part_time"] == 2 and roles["building_head"] == 2, grid.code
        assert set(grid.members.filter(role="full_time").values_list("user", flat=True)) == set(
            grid.workers.values_list("pk", flat=True)
        )


def test_street_has_communities_grids_units_and_limits(demo):
    assert demo.street.name == "示范街道"
    assert len(demo.communities) == 8 and len(demo.grids) == 40
    kinds = Counter(Unit.objects.values_list("kind", flat=True))
    assert kinds[Unit.Kind.COMMUNITY] == 8 and kinds[Unit.Kind.SECTION] == 5 and kinds[Unit.Kind.DEPARTMENT] == 6
    assert demo.street.default_unit.code == builder.DEFAULT_UNIT
    assert Category.objects.filter(level=3).count() == 517
    illegal = Category.objects.filter(level=3).exclude(
        response_hours__gte=1, response_hours__lte=24, completion_workdays__gte=1, completion_workdays__lte=15
    )
    assert not illegal.exists()
    illegal_building = Category.objects.get(name="违章建筑")
    assert (illegal_building.response_hours, illegal_building.completion_workdays) == (24, 3)
    assert Category.objects.filter(needs_verification=True).exists()


def test_every_grid_resolves_its_own_points_and_routes_small_matters_to_its_committee(demo):
    for grid in demo.grids:
        ring = grid.boundary["coordinates"][0]
        lng = sum(p[0] for p in ring[:4]) / 4
        lat = sum(p[1] for p in ring[:4]) / 4
        found = locate(lat, lng)
        assert found is not None and found.pk == grid.pk
    assert locate(39.80, 116.20) is None

    sanitation = Category.objects.get(name="环境卫生", parent__name="城市建设和市政管理")
    for index, community in enumerate(demo.communities):
        case = Case(category=sanitation, community=community, grid=community.grids.first())
        unit, _reason = routing.route(case)
        assert unit.code == f"JWH{index + 1:02d}"
    # Without a community, the committee cannot be known: the street's default unit takes it, and says why.
    unit, reason = routing.route(Case(category=sanitation))
    assert unit == demo.street.default_unit
    assert "未定位到社区" in reason


def _check_transition(event):
    if event.action in states.TRANSITIONS:
        transition = states.TRANSITIONS[event.action]
        assert event.from_status in transition.sources, (event.case_id, event.action, event.from_status)
        if transition.target is None:
            assert event.to_status == event.from_status
        elif isinstance(transition.target, tuple):
            assert event.to_status in transition.target
        else:
            assert event.to_status == transition.target
    elif event.action == "create":
        assert (event.from_status, event.to_status) == ("", Status.NEW)
    else:
        assert event.action in ("sla", "absorb"), event.action
        assert event.from_status == event.to_status


def test_simulated_history_follows_the_lifecycle_table(history):
    counts, _ = history
    assert Case.objects.count() == counts["cases"] == 300
    events = defaultdict(list)
    for event in CaseEvent.objects.order_by("case_id", "seq"):
        events[event.case_id].append(event)
    ratings = defaultdict(list)
    for rating in Rating.objects.order_by("case_id", "round"):
        ratings[rating.case_id].append(rating)

    for case in Case.objects.select_related("category", "duty_version"):
        log = events[case.pk]
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert log[0].action == "create" and log[0].at == case.created_at
        previous = ""
        for event in log:
            _check_transition(event)
            if event.action != "create":
                assert event.from_status == previous, (case.number, event.action)
            previous = event.to_status
        assert all(a.at <= b.at for a, b in itertools.pairwise(log))
        # Replaying the log gives the stored case.
        assert log[-1].to_status == case.status
        assert log[-1].unit_id == case.unit_id or log[-1].action == "absorb"
        assert case.return_count == sum(e.action == "return" for e in log)
        assert case.extension_count == sum(e.action == "approve_extension" for e in log)
        reopened = [e for e in log if e.action == "rate" and e.data["reopen"]]
        assert case.rework_count == len(reopened)
        assert case.supervised == any(e.action == "supervise" for e in log)
        assert case.urgency == next(
            (e.data["urgency"] for e in reversed(log) if e.action == "sla"), Urgency.GREEN
        ) or any(e.action in ("dispatch", "resolve", "approve_extension", "rate") for e in log)
        dispatches = [e for e in log if e.action == "dispatch"]
        if dispatches:
            assert case.dispatched_at == dispatches[-1].at
            assert case.category is not None
        changed_after = (
            any(e.action in ("approve_extension", "rate", "classify") and e.at > case.dispatched_at for e in log)
            if dispatches
            else True
        )
        if not changed_after:
            assert (case.response_due, case.completion_due) == routing.deadlines_for(
                case.category, case.dispatched_at, case.duty_version
            )
        # Ratings match the rate events, round by round, with the unit that handled the round.
        rates = [e for e in log if e.action == "rate"]
        assert [(r.round, r.resolved, r.satisfaction) for r in ratings[case.pk]] == [
            (e.data["round"], e.data["resolved"], e.data["satisfaction"]) for e in rates
        ]
        for rating, event in zip(ratings[case.pk], rates, strict=False):
            assert rating.unit_id == event.unit_id and rating.rated_at == event.at
            reopen = (not rating.resolved) or rating.satisfaction == Rating.Satisfaction.UNSATISFIED
            assert event.to_status == (Status.IN_PROGRESS if reopen else Status.CLOSED)
        if case.status == Status.CLOSED:
            assert case.closed_at is not None
            assert log[-1].action in ("rate", "close")
        if case.status == Status.MERGED:
            assert case.master is not None
            assert CaseEvent.objects.filter(case=case.master, action="absorb", data__duplicate=case.number).exists()


def _history_as_read():
    """The simulated history as a reader sees it (without row ids)."""
    cases = list(
        Case.objects.order_by("number").values_list(
            "number", "status", "unit__code", "category__code", "response_due", "completion_due", "urgency"
        )
    )
    events = list(
        CaseEvent.objects.order_by("case__number", "seq").values_list(
            "case__number", "seq", "at", "action", "from_status", "to_status", "unit__code", "note"
        )
    )
    ratings = list(Rating.objects.order_by("case__number", "round").values_list("case__number", "satisfaction"))
    return cases, events, ratings


def test_the_same_seed_gives_the_same_history(history):
    first = _history_as_read()
    Case.objects.update(master=None)
    for model in (WhistleSummons, Whistle, Extension, Supervision, Rating, CaseEvent, Case, CaseNumberCounter):
        model.objects.all().delete()
    simulate.simulate(cases=300, days=60, now=NOW, out=io.StringIO())
    assert _history_as_read() == first


def test_history_has_cases_in_many_states_and_the_records_behind_them(history):
    counts, output = history
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > 150
    assert len([s for s in OPEN_STATUSES if statuses[s]]) >= 3, statuses
    assert Case.objects.filter(status__in=OPEN_STATUSES).exists()
    assert Case.objects.filter(status__in=OPEN_STATUSES, completion_due__lt=NOW).exists()  # overdue
    assert CaseEvent.objects.filter(action="return").exists()
    assert Rating.objects.filter(resolved=False).exists() and Rating.objects.filter(resolved=True).exists()
    assert Case.objects.filter(rework_count__gt=0).exists()
    channels = Counter(Case.objects.values_list("channel", flat=True))
    assert channels.most_common(1)[0][0] == "12345"

    # Extensions and whistles: each row has its event, pending ones are the latest.
    for ext in Extension.objects.all():
        assert CaseEvent.objects.filter(case=ext.case, action="request_extension", data__extension=ext.pk).exists()
        decided = CaseEvent.objects.filter(
            case=ext.case, data__extension=ext.pk, action__in=("approve_extension", "refuse_extension")
        )
        assert decided.exists() == (ext.decision != Extension.Decision.PENDING)
    for summons in WhistleSummons.objects.select_related("whistle"):
        reported = CaseEvent.objects.filter(
            case=summons.whistle.case, action="report", actor_unit=summons.unit, data__whistle=summons.whistle_id
        )
        assert reported.exists() == (summons.reported_at is not None)
    assert Whistle.objects.filter(kind=Whistle.Kind.WHISTLE).count() == counts.get("whistles", 0)
    # The list's 协办 units got their co-handling tasks at dispatch.
    assert Whistle.objects.filter(kind=Whistle.Kind.COHANDLE).count() == counts.get("cohandles", 0) > 0

    # Case numbers: JD + local date + the day's sequence, and the counters know the last one.
    per_day = defaultdict(list)
    for number, created in Case.objects.values_list("number", "created_at"):
        day = created.astimezone(SHANGHAI).date()
        assert re.fullmatch(rf"JD{day:%Y%m%d}\d{{5}}", number)
        per_day[day].append(int(number[-5:]))
    for day, numbers in per_day.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
        assert CaseNumberCounter.objects.get(day=day).last == len(numbers)

    # Personal data is stored encrypted and read back in clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE reporter_phone <> '' LIMIT 5")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored and all(value.startswith("gAAAA") for value in stored)
    phones = Case.objects.exclude(reporter_phone_index="").values_list("reporter_phone", flat=True)[:5]
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)

    # Progress was shown every 10 % when not on a terminal.
    lines = [line for line in output.splitlines() if "件工单" in line]
    assert lines[-1].startswith("生成历史工单 100%") and len(lines) <= 12


def test_three_rates_of_the_simulated_units_are_meaningful(history):
    month = (NOW - dt.timedelta(days=20)).astimezone(SHANGHAI).strftime("%Y-%m")
    rows = measures.three_rates_by_unit(month, now=NOW)
    assert len(rows) >= 8
    complete = [r for r in rows if None not in (r.response_rate, r.resolution_rate, r.satisfaction_rate)]
    assert len(complete) >= len(rows) // 2
    for row in complete:
        for value in (row.response_rate, row.resolution_rate, row.satisfaction_rate, row.composite):
            assert 0 <= value <= 1
    # Units differ, so the ranking means something.
    assert len({round(r.composite, 3) for r in complete}) > 1
    street = measures.three_rates(month, now=NOW)
    assert 0 < street.resolution_rate < 1 and 0 < street.satisfaction_rate < 1


def test_demo_command_twice_builds_once(db):
    out = io.StringIO()
    call_command("demo", "--no-serve", "--cases", "200", stdout=out)
    first = (Street.objects.count(), User.objects.count(), Case.objects.count(), CaseEvent.objects.count())
    # The simulated history, plus today's sensor alerts that the demo operators confirmed into cases.
    assert first[0] == 1 and Case.objects.exclude(channel="sensor").count() == 200
    assert Case.objects.filter(channel="sensor").exists()
    text = out.getvalue()
    for username, _role, _name, _about in builder.DEMO_ACCOUNTS:
        assert username in text
    assert builder.DEMO_PASSWORD in text

    again = io.StringIO()
    call_command("demo", "--no-serve", "--cases", "200", stdout=again)
    assert (Street.objects.count(), User.objects.count(), Case.objects.count(), CaseEvent.objects.count()) == first
    assert "沿用已有演示数据库" in again.getvalue()


def test_serve_uses_web_concurrency_for_the_number_of_workers(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert default_workers() == 3
    monkeypatch.delenv("WEB_CONCURRENCY")
    assert default_workers() >= 2
