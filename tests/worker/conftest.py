import pytest

from jiedao.workcal import calendar


@pytest.fixture(autouse=True)
def _fast_hashing_and_fresh_calendar(settings):
    """Cheap password hashing for the many users of the test street, and a working
    calendar that forgets days entered by an earlier test (rolled back, so no signal)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    calendar.invalidate()
    yield
    calendar.invalidate()
