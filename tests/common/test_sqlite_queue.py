"""SQLite writers queue for the database (jiedao.common.sqlite): a transaction waits for
the one before it and starts as soon as it ends, never fails while it waits, and does
not wait forever behind a writer that holds on."""

import contextlib
import fcntl
import os
import threading
import time

import pytest
from django.db.utils import ConnectionHandler

from jiedao.common.sqlite import base as queue


@pytest.fixture
def database(tmp_path, django_db_blocker):
    """A file database on the queueing backend, as settings.py configures it (own
    connections per thread, like gunicorn's threads), outside the tests' database."""
    django_db_blocker.unblock()
    path = tmp_path / "queue.sqlite3"
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "jiedao.common.sqlite",
                "NAME": str(path),
                "OPTIONS": {
                    "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL;PRAGMA busy_timeout=20000",
                },
            }
        }
    )
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
        cursor.execute("INSERT INTO counter VALUES (1, 0)")
    connection.close()
    yield handler, path
    handler.close_all()
    django_db_blocker.restore()


def transaction(connection, work):
    """What transaction.atomic does on this connection: BEGIN IMMEDIATE … COMMIT."""
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        work(connection)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.set_autocommit(True)


def read_modify_write(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM counter WHERE id = 1")
        value = cursor.fetchone()[0]
        time.sleep(0.002)  # the writer holds the database a moment, as a request does
        cursor.execute("UPDATE counter SET value = %s WHERE id = 1", [value + 1])


def test_many_threads_write_at_once_and_none_is_lost_or_fails(database):
    handler, _path = database
    errors = []

    def worker():
        connection = handler.create_connection("default")
        try:
            for _ in range(20):
                transaction(connection, read_modify_write)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM counter WHERE id = 1")
        assert cursor.fetchone()[0] == 120


def hold_lock_file(path):
    fd = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_writer_waits_for_another_process_and_starts_when_it_is_done(database):
    handler, path = database
    other_process = hold_lock_file(path)  # another process in the middle of its transaction
    threading.Timer(0.3, os.close, [other_process]).start()
    started = time.monotonic()
    transaction(handler["default"], read_modify_write)
    waited = time.monotonic() - started
    assert 0.25 <= waited < 5


def test_the_queue_is_left_after_the_timeout(database, monkeypatch):
    """A writer stuck in the queue gives up waiting and meets SQLite's own locking (which
    here lets it through: the lock file's holder does not hold the database itself)."""
    handler, path = database
    monkeypatch.setattr(queue, "QUEUE_TIMEOUT", 0.2)
    stuck = hold_lock_file(path)
    try:
        started = time.monotonic()
        transaction(handler["default"], read_modify_write)
        assert 0.15 <= time.monotonic() - started < 5
    finally:
        os.close(stuck)


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_the_place_in_the_queue_is_given_up_when_the_transaction_ends(database, outcome):
    handler, path = database

    def work(connection):
        read_modify_write(connection)
        if outcome == "rollback":
            raise RuntimeError("rolled back")

    with contextlib.suppress(RuntimeError):
        transaction(handler["default"], work)
    fd = os.open(f"{path}.writer-lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if still held
    finally:
        os.close(fd)
    # and the next transaction of the same thread does not wait for itself
    started = time.monotonic()
    transaction(handler["default"], read_modify_write)
    assert time.monotonic() - started < 1
