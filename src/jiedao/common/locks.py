"""Named locks held until the end of the current transaction, for a rule that counts rows
that may not exist yet ("at most four bookings in this slot"): locking the rows found does
not stop another transaction from inserting one more.

- PostgreSQL: a transaction-scoped advisory lock on a 64-bit hash of the name
  (``pg_advisory_xact_lock``), released by the commit or roll-back.
- SQLite: every writing transaction already holds the database's one write lock from its
  start (``transaction_mode = IMMEDIATE`` in the settings), so nothing more is needed."""

import hashlib

from django.db import connection


def hold(name: str) -> None:
    """Wait for, then hold until the transaction ends, the lock called ``name``."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
