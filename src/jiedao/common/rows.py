"""Inserting new rows the short way: ``insert(objs)`` writes unsaved model instances of one model
as ``Model.save(force_insert=True)`` and ``bulk_create`` do — every field prepared by the field
itself (``pre_save``, then ``get_db_prep_save``: defaults, ``auto_now``, encryption, JSON), the
related objects' keys taken as ``save`` takes them, the new primary keys read back — with the
statement made once per model instead of on every call.

The paths every request takes (intake, the events of every lifecycle, notifications) spent more
time building their INSERT than the database spent running it. No ``pre_save``/``post_save``
signals are sent, as with ``bulk_create``; none of the models written this way has receivers.

``prepare`` does that preparing ahead, before the transaction, and ``insert_prepared`` only
runs the statement: on SQLite a write transaction holds the whole database, so what it does
between its statements makes every other writer wait.
"""

import datetime as dt
from types import NoneType
from typing import Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Model

M = TypeVar("M", bound=Model)

_statements: dict[tuple[str, type[Model]], "_Insert"] = {}


# Fields whose value of these exact types the field would pass to the database unchanged: such
# a value is taken as it is. Any other value (a lazy translation, a Decimal, a date) and every
# other field (times, JSON, encrypted text, subclasses of these) go through the field.
_AS_IS = {
    models.CharField: (str, NoneType),
    models.TextField: (str, NoneType),
    models.IntegerField: (int, NoneType),
    models.PositiveIntegerField: (int, NoneType),
    models.PositiveSmallIntegerField: (int, NoneType),
    models.SmallIntegerField: (int, NoneType),
    models.BigIntegerField: (int, NoneType),
    models.FloatField: (float, int, NoneType),
    models.BooleanField: (bool, NoneType),
}
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField)


def _as_is(field) -> tuple[type, ...]:
    if type(field) is models.ForeignKey and type(field.target_field) in _INTEGER_KEYS:
        return (int, NoneType)
    if type(field) in (models.DateTimeField, models.DateField) and not (field.auto_now or field.auto_now_add):
        return (NoneType,)  # a time not yet reached (responded, resolved, closed …)
    return _AS_IS.get(type(field), ())


def _is_time(field) -> bool:
    """A plain time column: an aware ``datetime`` goes to the database as the backend adapts it,
    without the field's checks for naive times and strings (``get_prep_value``)."""
    return type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add)


def _value(obj, field, attname, as_is, time, db):
    value = getattr(obj, attname)
    if type(value) in as_is:
        return value
    if time and type(value) is dt.datetime and value.tzinfo is not None:
        return db.ops.adapt_datetimefield_value(value)
    return field.get_db_prep_save(field.pre_save(obj, True), db)


class _Insert:
    def __init__(self, model: type[Model]):
        meta = model._meta
        self.fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
        self.plain = [(f, f.attname, _as_is(f), _is_time(f)) for f in self.fields]
        self._late: dict[tuple[str, ...], tuple] = {}
        quote = connection.ops.quote_name
        self.head = "INSERT INTO {} ({}) VALUES ".format(
            quote(meta.db_table), ", ".join(quote(f.column) for f in self.fields)
        )
        self.one = "({})".format(", ".join(["%s"] * len(self.fields)))
        self.returning = f" RETURNING {quote(meta.pk.column)}" if meta.auto_field is not None else ""

    def late_fields(self, late: tuple[str, ...]) -> tuple[frozenset, list, frozenset]:
        """For the ``late`` fields, kept per statement: the related fields whose keys are taken
        when the values are prepared (all others: the late ones are not saved yet), the late
        fields' positions and specs, and those of them that are related fields."""
        found = self._late.get(late)
        if found is None:
            specs = [(i, spec) for i, spec in enumerate(self.plain) if spec[1] in late]
            found = self._late[late] = (
                frozenset(f for f in self.fields if f.is_relation and f.attname not in late),
                specs,
                frozenset(spec[0] for _i, spec in specs if spec[0].is_relation),
            )
        return found

    def values(self, objs: list[M], late: tuple[str, ...] = ()) -> list:
        """The statement's parameters; those of the ``late`` fields are left out (``None``)."""
        db = connections[DEFAULT_DB_ALIAS]
        checked = self.late_fields(late)[0] if late else None
        params = []
        for obj in objs:
            if checked is None or checked:
                obj._prepare_related_fields_for_save(operation_name="save", fields=checked)
            for field, attname, as_is, time in self.plain:
                if attname in late:
                    params.append(None)
                else:
                    params.append(_value(obj, field, attname, as_is, time, db))
        return params

    def fill(self, objs: list[M], params: list, late: tuple[str, ...]) -> None:
        """The ``late`` fields' parameters, read from the rows now."""
        db = connections[DEFAULT_DB_ALIAS]
        _checked, specs, related = self.late_fields(late)
        width = len(self.plain)
        for row, obj in enumerate(objs):
            if related:
                obj._prepare_related_fields_for_save(operation_name="save", fields=related)
            for index, spec in specs:
                params[row * width + index] = _value(obj, *spec, db)

    def run(self, objs: list[M], params: list) -> None:
        db = connections[DEFAULT_DB_ALIAS]
        sql = self.head + ", ".join([self.one] * len(objs)) + self.returning
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            keys = cursor.fetchall() if self.returning else []
        for index, obj in enumerate(objs):
            if keys:
                obj.pk = keys[index][0]
            obj._state.adding = False
            obj._state.db = db.alias

    def __call__(self, objs: list[M]) -> None:
        self.run(objs, self.values(objs))


def _statement(model: type[Model]) -> _Insert:
    key = (connection.vendor, model)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = _Insert(model)
    return statement


def insert(objs: list[M]) -> list[M]:
    """Insert the unsaved instances ``objs`` (all of one model) in one statement, in the caller's
    transaction; returns them with their primary keys."""
    if objs:
        _statement(type(objs[0]))(objs)
    return objs


class Prepared(Generic[M]):
    """Unsaved rows of one model whose values are ready (``prepare``), to be inserted later
    (``insert_prepared``); the values of the ``late`` fields are read only then."""

    def __init__(self, objs: list[M], late: tuple[str, ...]):
        self.objs = objs
        self.late = late
        self.params = _statement(type(objs[0])).values(objs, late) if objs else []


def prepare(objs: list[M], *, late: tuple[str, ...] = ()) -> Prepared[M]:
    """The rows ``objs`` (all of one model) made ready to insert before the transaction: every
    value prepared as ``insert`` prepares it (encryption, JSON, times) except those of the
    ``late`` fields (attribute names, e.g. a number or the key of a row inserted first), read
    when ``insert_prepared`` inserts them. A transaction that holds the database (SQLite) is
    held only for the statements."""
    return Prepared(objs, tuple(late))


def insert_prepared(prepared: Prepared[M]) -> list[M]:
    """Insert rows made ready by ``prepare`` in one statement, in the caller's transaction;
    returns them with their primary keys."""
    objs = prepared.objs
    if objs:
        statement = _statement(type(objs[0]))
        params = list(prepared.params)
        if prepared.late:
            statement.fill(objs, params, prepared.late)
        statement.run(objs, params)
    return objs
