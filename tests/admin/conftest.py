import datetime as dt

import pytest

from jiedao.cases import services
from jiedao.workcal import calendar
from tests.factories import WEDNESDAY


@pytest.fixture(autouse=True)
def _fast_passwords_and_fresh_calendar(settings):
    # The real hasher costs about a second per user on a busy 2-core machine; the
    # working calendar's cache must not keep days entered by an earlier test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture
def admin_user(street):
    """The street's system administrator, who signs in to the Django admin."""
    user = street.users.admin
    user.is_staff = True
    user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def worked_case(street):
    """A case that went through the loop with an extension, a whistle and a rating,
    so that every admin list has a row to show."""
    u = street.users
    case, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="小区路灯不亮，晚上出行不便",
        reporter_name="张三",
        reporter_phone="13812345678",
        lat=39.905,
        lng=116.405,
        category_code="010101",
        dispatch=True,
        at=WEDNESDAY,
    )
    later = WEDNESDAY + dt.timedelta(hours=1)
    services.respond(u.handler_committee, number=case.number, note="已联系居民", at=later)
    services.request_extension(
        u.handler_committee, number=case.number, extra_workdays=2, reason="需要等待配件", at=later
    )
    services.decide_extension(u.leader, number=case.number, approve=True, at=later)
    services.blow_whistle(
        u.dispatcher, number=case.number, unit_codes=["ZHZF", "ZJ"], report_hours=4, reason="需多部门联合处置", at=later
    )
    services.resolve(u.handler_committee, number=case.number, result="已清理", at=later + dt.timedelta(hours=2))
    services.rate(
        u.operator, number=case.number, resolved=True, satisfaction="satisfied", at=later + dt.timedelta(days=1)
    )
    case.refresh_from_db()
    return case
