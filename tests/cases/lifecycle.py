"""Helpers that bring a fresh case of the test street to a given state through the services."""

import datetime as dt

from django.db import transaction

from jiedao.cases import services
from jiedao.cases.models import Case
from tests.factories import WEDNESDAY

HOUR = dt.timedelta(hours=1)
# Which test user handles cases for which unit.
HANDLER_OF = {"JWH01": "handler_committee", "ZHZF": "handler", "ZJ": "handler_housing"}

# 环境卫生 in 东湖社区 goes to the community committee (JWH01); 城市公共设施 needs an
# on-site check and goes to the enforcement team (ZHZF). Both lie in grid 1101050010101.
SANITATION, LAMPS = "010101", "010102"


def handler_for(street, case):
    return getattr(street.users, HANDLER_OF[case.unit.code])


def new_case(street, category=SANITATION, at=WEDNESDAY, description="楼下垃圾桶满了三天没人清运"):
    """A case reported by the resident 王大妈 on the portal, in the first grid of 东湖社区."""
    case, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description=description,
        lat=39.905,
        lng=116.405,
        category_code=category,
        at=at,
    )
    return case


def drive(street, to, category=SANITATION, at=WEDNESDAY):
    """A new case taken to status ``to`` along the usual path, one hour per step."""
    u = street.users
    case = new_case(street, category=category, at=at)
    if to == "new":
        return case
    clock = at
    case = services.dispatch(u.dispatcher, number=case.number, at=clock)
    if to == "dispatched":
        return case
    if to == "returned":
        return services.return_case(
            handler_for(street, case), number=case.number, reason="不属于本单位职责", at=clock + HOUR
        )
    handler = handler_for(street, case)
    clock += HOUR
    case = services.respond(handler, number=case.number, note="已电话联系居民", at=clock)
    if to == "in_progress":
        return case
    clock += HOUR
    case = services.resolve(handler, number=case.number, result="已处理完毕", at=clock)
    if to in ("verifying", "rating"):
        assert case.status == to
        return case
    clock += HOUR
    if case.status == "verifying":
        case = services.verify(u.grid, number=case.number, passed=True, reason="已电话联系居民核实", at=clock)
    case = services.rate(u.resident, number=case.number, resolved=True, satisfaction="satisfied", at=clock)
    assert to == "closed" and case.status == "closed"
    return case


def snapshot(number):
    """What a person would see of a case: its fields and its event log."""
    case = Case.objects.get(number=number)
    fields = {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields if f.attname != "updated_at"}
    return fields, list(case.events.order_by("seq").values_list("seq", "action", "from_status", "to_status"))


class _Rollback(Exception):
    pass


def attempt(call):
    """Run ``call`` and undo whatever it wrote. Returns its result, or the exception it raised."""
    try:
        with transaction.atomic():
            try:
                outcome = call()
            except Exception as error:
                outcome = error
            raise _Rollback(outcome)
    except _Rollback as rollback:
        return rollback.args[0]
