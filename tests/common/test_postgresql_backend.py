"""A kept PostgreSQL connection is checked before each request without a round trip, and one the
database has dropped is replaced, so the request is still answered (jiedao.common.postgresql)."""

import time

import pytest
from django.db import close_old_connections, connection, connections

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def other():
    """A second connection to the same database, as another process has."""
    second = connections.create_connection("default")
    yield second
    second.close()


@pytest.fixture
def fresh():
    """The test's connection newly opened (a kept one past its age would be closed, not checked)."""
    connection.close()


def backend_pid(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def last_statement(other, pid) -> str:
    with other.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def test_a_healthy_connection_is_kept_and_checked_without_a_statement(fresh, other):
    pid = backend_pid(connection)
    close_old_connections()  # as at the start of a request: the next query checks the connection first
    assert connection.is_usable()
    assert last_statement(other, pid) == "SELECT pg_backend_pid()"  # nothing was sent to check it
    assert backend_pid(connection) == pid  # the same connection serves the request


def test_a_connection_the_database_dropped_is_replaced_before_the_request_uses_it(fresh, other):
    pid = backend_pid(connection)
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    for _ in range(50):  # the server's goodbye reaches the socket within moments
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if not cursor.fetchone()[0]:
                break
        time.sleep(0.02)
    close_old_connections()
    assert not connection.is_usable()
    new_pid = backend_pid(connection)  # the request's first query runs on a new connection
    assert new_pid != pid
