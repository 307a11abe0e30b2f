import pytest

from tests.factories import build_street


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
    from jiedao.registry.selectors import forget_addresses
    from jiedao.workcal.calendar import invalidate

    forget_cached_list()
    forget_routing()
    invalidate()
    yield
    forget_cached_list()
    forget_routing()
    invalidate()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
