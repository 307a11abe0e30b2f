"""November 2026 on the test street, built through the case services (so the event log
is what real use leaves). 环境卫生 cases: answer within 2 hours, finish within 3 working days.

A → ZHZF (东湖 第一网格), Mon 2 Nov 09:00; responded 10:00 (on time); resolved Wed 4 Nov;
    rated Thu 5 Nov 满意, resolved.
B → ZHZF (东湖 第一网格), Tue 3 Nov 09:00; responded 12:00 (late); resolved Mon 9 Nov (overdue);
    rated Tue 10 Nov 基本满意, resolved.
C → ZHZF (西园 第一网格), Wed 4 Nov 09:00; responded 09:30 (on time); resolved Thu 5 Nov;
    rated Fri 6 Nov 不满意, not resolved → reopened.
D → ZHZF (西园 第一网格), Thu 5 Nov 09:00; returned 10:00; dispatched to ZJ 10:30; never answered.
"""

import datetime as dt

import pytest

from jiedao.cases import services
from jiedao.workcal.calendar import SHANGHAI

SANITATION = "010101"
MONTH_END = dt.datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)


def bj(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _chinese(in_chinese):
    """Messages are checked in Chinese, whatever language an earlier request switched to."""


@pytest.fixture(autouse=True)
def _builtin_schemes(request):
    """The schemes the migrations ship. Tests that run in transactions flush the database
    afterwards (browser tests elsewhere in the suite), taking migration data with them."""
    if (
        "db" not in request.fixturenames
        and "street" not in request.fixturenames
        and "transactional_db" not in request.fixturenames
        and "live_server" not in request.fixturenames
    ):
        return
    import importlib

    from django.apps import apps

    importlib.import_module("jiedao.evaluation.migrations.0002_default_schemes").create(apps, None)
    importlib.import_module("jiedao.evaluation.migrations.0009_scheme_person_role").create(apps, None)


@pytest.fixture
def evaluator(street):
    from tests.factories import make_user

    return make_user("evaluator", "evaluator")


def make_case(street, text, at, community, grid):
    case, _created = services.submit_case(
        street.users.operator,
        channel="12345",
        description=text,
        reporter_phone="13800138000",
        category_code=SANITATION,
        community_code=community.code,
        grid_code=grid.code,
        at=at,
    )
    return case


@pytest.fixture
def november(street):
    u = street.users
    c1, c2 = street.communities
    g11, _g12, g21, _g22 = street.grids

    a = make_case(street, "A 垃圾清运", bj("2026-11-02 08:50"), c1, g11)
    services.dispatch(u.dispatcher, number=a.number, unit_code="ZHZF", at=bj("2026-11-02 09:00"))
    services.respond(u.handler, number=a.number, at=bj("2026-11-02 10:00"))
    services.resolve(u.handler, number=a.number, result="已清运", at=bj("2026-11-04 15:00"))
    services.rate(u.operator, number=a.number, resolved=True, satisfaction="satisfied", at=bj("2026-11-05 10:00"))

    b = make_case(street, "B 垃圾清运", bj("2026-11-03 08:50"), c1, g11)
    services.dispatch(u.dispatcher, number=b.number, unit_code="ZHZF", at=bj("2026-11-03 09:00"))
    services.respond(u.handler, number=b.number, at=bj("2026-11-03 12:00"))
    services.resolve(u.handler, number=b.number, result="已清运", at=bj("2026-11-09 10:00"))
    services.rate(u.operator, number=b.number, resolved=True, satisfaction="basic", at=bj("2026-11-10 10:00"))

    c = make_case(street, "C 垃圾清运", bj("2026-11-04 08:50"), c2, g21)
    services.dispatch(u.dispatcher, number=c.number, unit_code="ZHZF", at=bj("2026-11-04 09:00"))
    services.respond(u.handler, number=c.number, at=bj("2026-11-04 09:30"))
    services.resolve(u.handler, number=c.number, result="已清运", at=bj("2026-11-05 10:00"))
    services.rate(u.operator, number=c.number, resolved=False, satisfaction="unsatisfied", at=bj("2026-11-06 10:00"))

    d = make_case(street, "D 垃圾清运", bj("2026-11-05 08:50"), c2, g21)
    services.dispatch(u.dispatcher, number=d.number, unit_code="ZHZF", at=bj("2026-11-05 09:00"))
    services.return_case(u.handler, number=d.number, reason="不属于执法队", at=bj("2026-11-05 10:00"))
    services.dispatch(u.dispatcher, number=d.number, unit_code="ZJ", at=bj("2026-11-05 10:30"))
    street.cases = {"A": a, "B": b, "C": c, "D": d}
    return street
