import pytest

from jiedao.cases import services
from jiedao.common.models import SearchTerm
from jiedao.common.vocabulary import load_shipped
from tests.browsing import browser  # noqa: F401  (the headless Chromium fixture, for every test)
from tests.factories import PASSWORD, build_street


@pytest.fixture
def street(db):
    return build_street()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Tests roll their rows back, so ids are reused: forget what the previous test cached."""
    from jiedao.cases.selectors import forget_routing
    from jiedao.duties.selectors import forget_cached_list
    from jiedao.messaging.outbox import forget_rules
    from jiedao.workcal.calendar import invalidate

    forget_cached_list()
    forget_routing()
    forget_rules()
    invalidate()
    yield
    forget_cached_list()
    forget_routing()
    forget_rules()
    invalidate()


@pytest.fixture(autouse=True)
def _password_only_sign_in(settings):
    """Tests of other features sign staff in with the password alone; tests/org/test_two_factor.py
    switches two-factor sign-in on. The outbox's quiet hours and digests are off (a test run's
    clock is any hour, and tests send many messages to one person): tests/messaging/test_templates.py
    switches them on."""
    settings.JIEDAO = dict(settings.JIEDAO, STAFF_TWO_FACTOR=False, QUIET_HOURS="", DIGEST_AFTER=0)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def login(client):
    """Sign the test client in as ``user`` (password only) and return the client."""

    def _login(user):
        client.logout()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login


@pytest.fixture
def in_chinese():
    """The test's own thread speaks Chinese, whatever language an earlier request switched to."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


@pytest.fixture
def make_case(street):
    """A case reported by the street's resident, optionally classified and dispatched."""

    def _make(
        description="楼下垃圾桶满了没人清运",
        category="010101",
        dispatch=True,
        reporter=None,
        lat=39.905,
        lng=116.405,
        unit=None,
        **kwargs,
    ):
        reporter = reporter or street.users.resident
        case, _ = services.submit_case(
            reporter,
            channel="portal",
            description=description,
            lat=lat,
            lng=lng,
            reporter_phone=kwargs.pop("phone", ""),
            **kwargs,
        )
        if category:
            services.classify(street.users.dispatcher, number=case.number, category_code=category)
            if dispatch:
                services.dispatch(street.users.dispatcher, number=case.number, unit_code=unit)
        case.refresh_from_db()
        return case

    return _make


@pytest.fixture
def vocabulary(db):
    """The search vocabulary as shipped (a test that empties the tables between tests removes
    the rows the migration wrote)."""
    load_shipped(SearchTerm)
