"""The bulk writer (the demo's history, imported history) writes a case as the services do: the
same unit and deadlines from the same routing, numbers from the same day's counter, the same
event log, personal data stored the same way; it moves a case only as the lifecycle allows."""

import datetime as dt
import re

import pytest
from django.db import connection

from jiedao.cases import services
from jiedao.cases.bulk import CaseBatch, CaseDraft, Routes, StepRefused, write_cases
from jiedao.cases.models import Case, CaseNumberCounter, Rating, Status
from jiedao.cases.routing import RouteDecision
from jiedao.cases.selectors import public_case
from jiedao.org.models import Community, Street, Unit
from tests.factories import WEDNESDAY

HOUR = dt.timedelta(hours=1)
PHONE = "13800138001"


def log_of(case):
    """The case's log as a reader sees it: everything but the case and the row ids."""
    return [
        (e.seq, e.at, e.action, e.from_status, e.to_status, e.unit_id, e.actor_id, e.actor_unit_id, e.note, e.data)
        for e in case.events.order_by("seq")
    ]


def draft_like_intake(street, **fields):
    grid = street.grids[0]
    values = {
        "channel": "12345",
        "description": "东湖小区门口垃圾堆了三天",
        "created_at": WEDNESDAY,
        "street_id": street.street.pk,
        "created_by": street.users.operator,
        "reporter_phone": PHONE,
        "community": grid.community,
        "grid": grid,
        "category": street.categories.lamps,
    }
    values.update(fields)
    return CaseDraft(**values)


def test_a_bulk_written_case_is_the_case_the_services_write_from_the_same_input(street):
    users = street.users
    served, _ = services.submit_case(
        users.operator,
        channel="12345",
        description="东湖小区门口垃圾堆了三天",
        reporter_phone=PHONE,
        grid_code=street.grids[0].code,
        category_code="010102",
        dispatch=True,
        at=WEDNESDAY,
    )
    services.respond(users.handler, number=served.number, at=WEDNESDAY + HOUR)
    services.resolve(users.handler, number=served.number, result="路灯已修复", at=WEDNESDAY + 3 * HOUR)
    services.verify(users.grid, number=served.number, passed=True, reason="电话核实", at=WEDNESDAY + 4 * HOUR)
    services.rate(users.operator, number=served.number, resolved=False, satisfaction="basic", at=WEDNESDAY + 5 * HOUR)
    services.resolve(users.handler, number=served.number, result="已彻底修好", at=WEDNESDAY + 26 * HOUR)
    services.verify(users.grid, number=served.number, passed=True, reason="电话核实", at=WEDNESDAY + 27 * HOUR)
    services.rate(
        users.operator, number=served.number, resolved=True, satisfaction="satisfied", at=WEDNESDAY + 28 * HOUR
    )

    draft = draft_like_intake(street)
    draft.dispatch(Routes().decision(draft), at=WEDNESDAY, actor=users.operator)
    draft.respond(at=WEDNESDAY + HOUR, actor=users.handler)
    draft.resolve(at=WEDNESDAY + 3 * HOUR, actor=users.handler, result="路灯已修复")
    draft.verify(passed=True, at=WEDNESDAY + 4 * HOUR, actor=users.grid, reason="电话核实")
    callback = Rating.Source.CALLBACK
    draft.rate(at=WEDNESDAY + 5 * HOUR, actor=users.operator, resolved=False, satisfaction="basic", source=callback)
    draft.resolve(at=WEDNESDAY + 26 * HOUR, actor=users.handler, result="已彻底修好")
    draft.verify(passed=True, at=WEDNESDAY + 27 * HOUR, actor=users.grid, reason="电话核实")
    draft.rate(at=WEDNESDAY + 28 * HOUR, actor=users.operator, resolved=True, satisfaction="satisfied", source=callback)
    write_cases([draft])

    served = Case.objects.get(pk=served.pk)
    bulk = Case.objects.get(pk=draft.id)
    fields = [f.attname for f in Case._meta.concrete_fields if f.attname not in ("id", "number", "updated_at")]
    assert {name: getattr(bulk, name) for name in fields} == {name: getattr(served, name) for name in fields}
    assert bulk.unit == street.units.enforcement and bulk.status == Status.CLOSED and bulk.rework_count == 1
    # The same day's counter: the bulk case is the day's next number.
    assert re.fullmatch(r"JD2026111800001", served.number) and bulk.number == "JD2026111800002"
    assert log_of(bulk) == log_of(served)
    ratings = [(r.unit_id, r.round, r.resolved, r.satisfaction, r.source, r.rated_at) for r in Rating.objects.all()]
    assert ratings[:2] == ratings[2:]
    # The reporter's phone is stored encrypted, and the reporter finds the case with it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [bulk.pk])
        assert PHONE not in cursor.fetchone()[0]
    assert public_case(bulk.number, PHONE) == bulk


def test_numbers_continue_the_days_counter_both_ways(street):
    first, _ = services.submit_case(street.users.operator, channel="phone", description="井盖丢失", at=WEDNESDAY)
    counts = write_cases([draft_like_intake(street), draft_like_intake(street, created_at=WEDNESDAY + HOUR)])
    after, _ = services.submit_case(street.users.operator, channel="phone", description="路灯不亮", at=WEDNESDAY)
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert counts["cases"] == 2
    assert numbers == [f"JD202611180000{n}" for n in range(1, 5)]
    assert (first.number, after.number) == ("JD2026111800001", "JD2026111800004")


def test_a_kept_number_in_our_format_moves_the_counter_past_it(street):
    write_cases([draft_like_intake(street, number="JD2026111800009")])
    assert CaseNumberCounter.objects.get(day=dt.date(2026, 11, 18)).last == 9
    case, _ = services.submit_case(street.users.operator, channel="phone", description="路灯不亮", at=WEDNESDAY)
    assert case.number == "JD2026111800010"


@pytest.fixture
def other_street(street):
    """A second street of the district, with its own community and default unit."""
    south = Street.objects.create(district=street.district, code="110105002", name="城南街道")
    community = Community.objects.create(street=south, code="11010500201", name="南湖社区")
    service = Unit.objects.create(street=south, code="CN-GGFW", name="城南公共服务部", kind=Unit.Kind.SECTION)
    south.default_unit = service
    south.save()
    return south, community, service


def test_a_rule_naming_another_streets_unit_is_not_followed_in_bulk_either(street, other_street):
    south, community, service = other_street
    # "市政管理归综合执法队" names the enforcement unit of the test street.
    here = draft_like_intake(street, grid=None, community=street.communities[1])
    there = draft_like_intake(street, grid=None, community=community, street_id=south.pk)
    routes = Routes()
    for draft in (here, there):
        draft.dispatch(routes.decision(draft), at=WEDNESDAY + HOUR, actor=street.users.dispatcher)
    write_cases([here, there])
    assert Case.objects.get(pk=here.id).unit == street.units.enforcement
    elsewhere = Case.objects.get(pk=there.id)
    assert elsewhere.unit == service and "默认承办单位" in elsewhere.routed_by


def test_a_step_the_lifecycle_does_not_allow_is_refused_and_changes_nothing(street):
    draft = draft_like_intake(street)
    with pytest.raises(StepRefused):
        draft.respond(at=WEDNESDAY + HOUR, actor=street.users.handler)
    with pytest.raises(StepRefused):
        draft.rate(at=WEDNESDAY + HOUR, actor=None, resolved=True, satisfaction="satisfied", source="resident")
    assert draft.status == Status.NEW and [e.action for e in draft.events] == ["create"]
    assert draft.responded_at is None and draft.ratings == []


def test_a_merged_duplicate_names_its_master_and_the_master_logs_it_when_it_happened(street):
    dispatcher = street.users.dispatcher
    master = draft_like_intake(street)
    master.dispatch(RouteDecision(street.units.enforcement, "派单员指定"), at=WEDNESDAY + HOUR, actor=dispatcher)
    master.respond(at=WEDNESDAY + 5 * HOUR, actor=street.users.handler)
    duplicate = draft_like_intake(street, created_at=WEDNESDAY + 2 * HOUR)
    duplicate.merge(master, at=WEDNESDAY + 3 * HOUR, actor=dispatcher)
    batch = CaseBatch()
    batch.add(master)
    batch.add(duplicate)
    batch.flush()
    master_case, duplicate_case = Case.objects.get(pk=master.id), Case.objects.get(pk=duplicate.id)
    assert duplicate_case.master == master_case and duplicate_case.status == Status.MERGED
    assert [e.data for e in duplicate_case.events.filter(action="merge")] == [{"master": master_case.number}]
    # The master's log: the absorb comes between the dispatch and the response, in its state then.
    assert [(e.action, e.from_status, e.to_status) for e in master_case.events.order_by("seq")] == [
        ("create", "", "new"),
        ("dispatch", "new", "dispatched"),
        ("absorb", "dispatched", "dispatched"),
        ("respond", "dispatched", "in_progress"),
    ]
    assert master_case.events.get(action="absorb").data == {"duplicate": duplicate_case.number}
