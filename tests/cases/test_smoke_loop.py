"""The whole loop through the services, as a dispatcher, handler and resident would run it."""

import datetime as dt

from jiedao.cases import services
from jiedao.cases.models import CaseEvent, Status
from tests.factories import WEDNESDAY


def test_full_loop_from_resident_report_to_closing(street):
    u = street.users
    case, created = services.submit_case(
        u.resident, channel="portal", description="楼下垃圾桶满了三天没人清运", lat=39.905, lng=116.405, at=WEDNESDAY
    )
    assert created and case.status == Status.NEW
    assert case.grid == street.grids[0] and case.community == street.communities[0]
    assert case.number.startswith("JD20261118")

    services.classify(u.dispatcher, number=case.number, category_code="010101", at=WEDNESDAY)
    case = services.dispatch(u.dispatcher, number=case.number, at=WEDNESDAY)
    # The community rule wins over the broader municipal rule.
    assert case.unit == street.units.committee1
    assert case.response_due == WEDNESDAY + dt.timedelta(hours=2)
    # 3 working days after Wednesday 18 Nov is Monday 23 Nov, end of day in Beijing.
    assert case.completion_due.astimezone(dt.timezone(dt.timedelta(hours=8))).date() == dt.date(2026, 11, 23)

    later = WEDNESDAY + dt.timedelta(hours=1)
    services.respond(u.handler_committee, number=case.number, note="已电话联系", at=later)
    services.resolve(u.handler_committee, number=case.number, result="已清运", at=later + dt.timedelta(hours=3))
    case = services.rate(
        u.resident, number=case.number, resolved=True, satisfaction="satisfied", at=later + dt.timedelta(days=1)
    )
    assert case.status == Status.CLOSED
    actions = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions == ["create", "classify", "dispatch", "respond", "resolve", "rate"]
