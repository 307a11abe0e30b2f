import pytest
from django.test import Client

from jiedao.common import crypto
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    """Every test gets its own key files (created at first use) under a fresh directory,
    set up before any personal data is written."""
    keys = tmp_path / "keys"
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.BLIND_INDEX_KEY = ""
    settings.FIELD_KEY_FILE = keys / "field.keys"
    settings.INDEX_KEY_FILE = keys / "index.key"
    crypto.forget_cached_keys()
    yield keys
    crypto.forget_cached_keys()


@pytest.fixture
def login():
    """``login(user)`` → a test client signed in as ``user``."""

    def _login(user):
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login
