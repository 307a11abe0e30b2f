import pytest

from tests.factories import build_street


@pytest.fixture
def street(db):
    return build_street()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
