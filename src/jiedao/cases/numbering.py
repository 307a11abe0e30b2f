"""Case numbers: JD + the Beijing date + the day's 5-digit sequence, e.g. JD2026112200017.

The day's counter row (``CaseNumberCounter``) is incremented inside the caller's transaction,
so a case that is rolled back gives its number back and numbers stay consecutive. Where the
database locks single rows (PostgreSQL) that row stays locked until the transaction ends, so
the intake inserts the case under a provisional number and takes the real one last
(``connection_locks_rows``, ``renumber``: on PostgreSQL the counter's increment and the case's
new number are one statement, one round trip); SQLite locks the whole database for the
transaction anyway.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F

from jiedao.workcal.calendar import SHANGHAI

from .models import Case, CaseNumberCounter


def next_number(at: dt.datetime) -> str:
    """The next number of the Beijing day of ``at`` (the caller holds the transaction)."""
    day = at.astimezone(SHANGHAI).date()
    last = _bump_counter(day)
    if last is None:
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(day=day, last=1)
            last = 1
        except IntegrityError:  # another request created the day's row first
            last = _bump_counter(day)
    return f"{_prefix(day)}{last:05d}"


def renumber(case: Case, at: dt.datetime) -> str:
    """Give the case, inserted under a provisional number in the caller's transaction, the next
    number of the Beijing day of ``at``; returns it. On PostgreSQL the counter is incremented and
    the case renumbered by one statement, formatted there as ``next_number`` formats it."""
    day = at.astimezone(SHANGHAI).date()
    connection = connections[router.db_for_write(Case)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_renumber_sql(connection), [day, _prefix(day), case.pk])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
    # Another database, or the day's first case (the day has no counter row yet).
    number = next_number(at)
    Case.objects.filter(pk=case.pk).update(number=number)
    return number


def _prefix(day: dt.date) -> str:
    return f"{settings.JIEDAO['CASE_NUMBER_PREFIX']}{day:%Y%m%d}"


_renumber_statements: dict[str, str] = {}


def _renumber_sql(connection) -> str:
    sql = _renumber_statements.get(connection.alias)
    if sql is None:
        quote = connection.ops.quote_name
        counter, case = CaseNumberCounter._meta, Case._meta
        table, last = quote(counter.db_table), quote(counter.get_field("last").column)
        day = quote(counter.get_field("day").column)
        cases, number, pk = quote(case.db_table), quote(case.get_field("number").column), quote(case.pk.column)
        # The sequence padded to 5 digits, longer when it has more (as ``f"{last:05d}"``).
        sql = _renumber_statements[connection.alias] = (
            f"WITH n AS (UPDATE {table} SET {last} = {last} + 1 WHERE {day} = %s RETURNING {last})"
            f" UPDATE {cases} SET {number} = %s || LPAD(n.{last}::text, GREATEST(5, LENGTH(n.{last}::text)), '0')"
            f" FROM n WHERE {cases}.{pk} = %s RETURNING {cases}.{number}"
        )
    return sql


def connection_locks_rows() -> bool:
    """Whether the database locks single rows (PostgreSQL), not the whole database (SQLite)."""
    return connections[router.db_for_write(Case)].features.has_select_for_update


def provisional_number() -> str:
    """A unique stand-in for a case number, replaced before the transaction commits."""
    return "~" + secrets.token_hex(9)


def _bump_counter(day):
    """Add one to the day's counter and return the new value (None when the day has no row yet)."""
    connection = connections[router.db_for_write(CaseNumberCounter)]
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35: no RETURNING
        if not CaseNumberCounter.objects.filter(day=day).update(last=F("last") + 1):
            return None
        return CaseNumberCounter.objects.filter(day=day).values_list("last", flat=True).get()
    opts = CaseNumberCounter._meta
    table, last = connection.ops.quote_name(opts.db_table), connection.ops.quote_name(opts.get_field("last").column)
    day_column = connection.ops.quote_name(opts.get_field("day").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 WHERE {day_column} = %s RETURNING {last}",
            [opts.get_field("day").get_db_prep_value(day, connection)],
        )
        row = cursor.fetchone()
    return row[0] if row else None
