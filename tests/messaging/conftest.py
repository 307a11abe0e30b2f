"""Fixtures of other apps the messaging tests use."""

from tests.hall.conftest import hall  # noqa: F401 (the service hall with its items, for the 好差评 SMS)
