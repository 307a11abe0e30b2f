"""A small street with one of everything the API and the pages can point at, for the fuzz tests:
cases in several states, service-hall items and an application, the registry, proposals,
a meeting in session, a vote, points, an emergency, a depot with stock, sensors and the
responsibility list. Generated requests name these real ids (besides made-up ones), so that
they reach the code behind the look-ups.

Rate limits are switched off here: the fuzz looks for server errors behind them, and their
own tests (tests/common, tests/api) keep them honest."""

import secrets
from types import SimpleNamespace

import pytest
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.emergency import services as emergency_services
from jiedao.emergency.models import Depot, Stock
from jiedao.hall import services as hall_services
from jiedao.org import services as org_services
from jiedao.org.models import ApiToken
from jiedao.participation import services as participation_services
from tests.duties.conftest import duties  # noqa: F401  (fixtures shared with the other suites)
from tests.emergency.conftest import devices  # noqa: F401
from tests.hall.conftest import hall, materials  # noqa: F401
from tests.participation.conftest import people  # noqa: F401
from tests.registry.conftest import registry  # noqa: F401


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.JIEDAO = {key: ("" if key.endswith("_RATE") else value) for key, value in settings.JIEDAO.items()}


@pytest.fixture
def world(street, make_case, hall, registry, people, devices, duties):  # noqa: F811
    u = street.users
    new = make_case(category=None)
    dispatched = make_case(unit="ZHZF")
    resolved = make_case(unit="ZHZF")
    case_services.respond(u.handler, number=resolved.number, note="已联系")
    case_services.resolve(u.handler, number=resolved.number, result="已处理")

    application = hall_services.accept_at_window(
        u.operator,
        item_code="11010500100001",
        applicant={"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"},
        materials=materials(hall["elderly"]),
    )

    proposal = participation_services.propose(people.wang, title="楼道加装扶手", body="老人上下楼不方便")
    topic = participation_services.table_topic(
        people.staff, community=people.dong, title="垃圾驿站选址", body="征求意见"
    )
    meeting = participation_services.schedule_meeting(
        people.staff, community=people.dong, title="议事会", starts_at=timezone.now(), place="活动室", seats=5
    )
    participation_services.add_to_agenda(people.staff, meeting_id=meeting.pk, proposal_id=topic.pk)
    participation_services.meeting_step(people.staff, meeting_id=meeting.pk, action="start")
    projects = [
        participation_services.create_project(people.staff, community=people.dong, title=t, cost=c)
        for t, c in [("长者食堂", 50000), ("四点半课堂", 30000)]
    ]
    vote = participation_services.open_vote(
        people.staff,
        community=people.dong,
        year=timezone.localdate().year + 1,
        budget=60000,
        max_choices=2,
        project_ids=[p.pk for p in projects],
    )
    participation_services.earn(people.staff, user=people.wang, points=30, reason="楼道清扫")

    emergency = emergency_services.report_emergency(
        u.dispatcher, title="东湖路积水", kind="flood", lat=39.905, lng=116.405
    )
    depot = Depot.objects.create(name="街道应急物资库", community=street.communities[0])
    stock = Stock.objects.create(depot=depot, item="沙袋", unit_label="袋", quantity=100, required=200)

    person = next(iter(registry.people.values()))
    check = emergency.checks.first()  # the special-care residents of the grid, to check on
    return SimpleNamespace(
        street=street,
        users=u,
        people=people,
        cases=SimpleNamespace(new=new, dispatched=dispatched, resolved=resolved),
        application=application,
        proposal=proposal,
        topic=topic,
        meeting=meeting,
        vote=vote,
        projects=projects,
        emergency=emergency,
        stock=stock,
        person=person,
        devices=devices,
        check=check,
        materials={str(m.pk): "provided" for m in hall["elderly"].materials.all()},
        # Real values for the path parameters of the API, by the path's template.
        path_values={
            "/api/v1/cases/{number}": {"number": dispatched.number},
            "/api/v1/public/cases/{number}": {"number": resolved.number},
            "/api/v1/hall/applications/{number}": {"number": application.number},
            "/api/v1/hall/applications/{number}/actions/{action}": {"action": "approve"},
            "/api/v1/hall/items/{code}": {"code": "11010500100001"},
            "/api/v1/emergencies/{number}": {"number": emergency.number},
            "/api/v1/emergencies/{number}/{action}": {"action": "dispatch"},
            "/api/v1/emergency/stocks/{stock_id}": {"stock_id": stock.pk},
            "/api/v1/emergency/checks/{check_id}": {"check_id": check.pk if check else 1},
            "/api/v1/registry/persons/{person_id}": {"person_id": person.pk},
            "/api/v1/participation/proposals/{pk}": {"pk": proposal.pk},
            "/api/v1/participation/proposals/{pk}/decision": {"pk": topic.pk},  # on the agenda, in session
            "/api/v1/participation/meetings/{pk}": {"pk": meeting.pk},
            "/api/v1/participation/votes/{pk}": {"pk": vote.pk},
            "/api/v1/duties/{code}": {"code": "JD-001"},
            "/api/v1/indicators/{code}": {"code": "response_rate"},
        },
    )


def path_values(world, path):
    """The real path parameters for an API path (the longest template that starts it)."""
    found = {}
    for template, values in sorted(world.path_values.items(), key=lambda item: len(item[0])):
        if path == template or path.startswith(template + "/"):
            found.update(values)
    return found


def bearer_token(user):
    """A fresh bearer token of ``user``, issued without the sign-in endpoint (no password needed)."""
    plain = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, key_hash=org_services.hash_token(plain), expires_at=timezone.now() + org_services.token_lifetime()
    )
    return plain


@pytest.fixture
def wsgi_in_the_test_transaction():
    """schemathesis calls the WSGI application directly; like Django's own test client, keep the
    request signals from closing the test's database connection (and its transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
