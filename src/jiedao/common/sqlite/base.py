"""Django's SQLite backend, with write transactions that queue for the database.

SQLite lets one writer at a time hold a database. Jiedao starts every transaction
with ``BEGIN IMMEDIATE`` (settings: ``transaction_mode``), so a second writer waits in
SQLite's busy handler, which sleeps and retries with growing pauses (1, 2, 5 … up to
100 ms). Under concurrent intake that polling, not the work, sets the slowest answers:
a writer that has just missed the lock sleeps on while it is free again.

Here a transaction first queues for the right to write, and only then sends ``BEGIN
IMMEDIATE``:

- inside a process, threads wait on a lock (woken as soon as it is released);
- across processes (gunicorn workers, the task worker, commands), the one thread per
  process that holds that lock takes an exclusive ``flock`` on ``<database>.writer-lock``
  next to the database file. The kernel releases it if a process dies.

The queue is left after ``QUEUE_TIMEOUT`` seconds (the ``busy_timeout`` of settings):
the transaction then begins anyway and SQLite's own busy handling applies, so a stuck
writer makes others fail as before instead of hanging. Programs that do not use this
backend (the ``sqlite3`` shell, backups) are not in the queue and meet SQLite's
locking as usual. In-memory databases (the tests) are left alone.

A new database file is created owner-only (0600), and with it its ``-wal`` and ``-shm`` files.
"""

import fcntl
import os
import threading
import time

from django.db.backends.sqlite3 import base

from jiedao.common.filemodes import create_private_file

QUEUE_TIMEOUT = 20.0
_FLOCK_PAUSE_MAX = 0.001

_guard = threading.Lock()
_thread_locks = {}  # database path -> lock held by the thread whose transaction writes


def _forget_thread_locks():
    global _guard, _thread_locks
    _guard = threading.Lock()
    _thread_locks = {}


# A child process must not inherit a lock taken by a thread of its parent.
os.register_at_fork(after_in_child=_forget_thread_locks)


def _thread_lock(path):
    with _guard:
        return _thread_locks.setdefault(path, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _queue_lock = None  # the process lock this connection holds
    _queue_fd = None  # the open lock file whose flock it holds

    def get_new_connection(self, conn_params):
        # SQLite would make a new database file with the umask's mode (often 0644, readable by
        # every user): make it owner-only first (an empty file is an empty database). Its -wal
        # and -shm files take the database file's mode.
        name = str(self.settings_dict["NAME"])
        if not self.is_in_memory_db() and not name.startswith("file:"):
            try:
                create_private_file(name)
            except FileNotFoundError:  # no such directory: SQLite says so itself
                pass
        return super().get_new_connection(conn_params)

    def _queues(self):
        return self.transaction_mode in ("IMMEDIATE", "EXCLUSIVE") and not self.is_in_memory_db()

    def _enter_queue(self):
        deadline = time.monotonic() + QUEUE_TIMEOUT
        path = str(self.settings_dict["NAME"])
        lock = _thread_lock(path)
        if not lock.acquire(timeout=QUEUE_TIMEOUT):
            return
        self._queue_lock = lock
        fd = os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        pause = 0.0001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._queue_fd = fd
                return
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                os.close(fd)
                return
            # Only one thread per process polls here; the pause stays short.
            time.sleep(pause)
            pause = min(pause * 2, _FLOCK_PAUSE_MAX)

    def _leave_queue(self):
        fd, self._queue_fd = self._queue_fd, None
        if fd is not None:
            os.close(fd)  # closing the file releases its flock
        lock, self._queue_lock = self._queue_lock, None
        if lock is not None:
            lock.release()

    def _start_transaction_under_autocommit(self):
        if self._queues():
            self._enter_queue()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._leave_queue()
            raise

    def _set_autocommit(self, autocommit):
        # Django turns autocommit back on after the outermost atomic block commits or
        # rolls back: the transaction is over.
        try:
            super()._set_autocommit(autocommit)
        finally:
            if autocommit:
                self._leave_queue()

    def _close(self):
        try:
            super()._close()
        finally:
            self._leave_queue()
