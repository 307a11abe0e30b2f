"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

Jiedao keeps database connections open between requests and checks one before the first
query of each request (``conn_health_checks``), so that a connection the database has dropped
(a restart, a shutdown, a session ended by an administrator or by ``idle_session_timeout``)
is replaced instead of failing the request. Django checks by sending ``SELECT 1``: one round
trip more for every request.

Here the check first looks at the connection's socket, without waiting. A server that drops a
session says so on it (an error message, then the end of the stream); an idle connection in
good health has nothing to read. Only when something waits there, or after an error on the
connection, is ``SELECT 1`` sent as before; a connection that fails it is closed and the
request gets a new one.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if not self.errors_occurred:
            try:
                poll = select.poll()
                poll.register(connection.fileno(), select.POLLIN)
                waiting = poll.poll(0)
            except (OSError, ValueError):
                waiting = True
            if not waiting:
                return True
        return super().is_usable()
