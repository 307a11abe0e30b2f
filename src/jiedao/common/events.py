"""One writer for every event log (cases, applications, emergencies, rectification tasks,
proposals, meetings, actions, projects).

An event model is an ``EventLog`` (append-only, see ``common.models.AppendOnly``) that names
the field pointing at its record in ``subject``. ``append`` fills what every log has — the
record, the action, who took it (nobody when not signed in), when — and what this log has of
the rest: the states before and after, a note (cut to the field's length), data, the next
number in the record's log (``seq``, when the model numbers its events; the caller holds the
record's lock, so two events never get one number). It is written in the caller's transaction.
"""

from django.db import models
from django.db.models import Max

from .rows import insert


def append(model, record, **event):
    """Write one event of ``record`` into the log ``model`` (the arguments of ``build``); returns
    the saved row."""
    row = build(model, record, **event)
    insert([row])
    return row


def build(
    model,
    record,
    *,
    action: str,
    actor=None,
    at,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict | None = None,
    seq: int | None = None,
    **fields,
):
    """The unsaved event ``append`` would write, for a writer that inserts several events at
    once (``bulk_create``: a new case's first events). Give ``seq`` for each: rows that are not
    saved yet do not count for ``next_seq``."""
    values = {
        model.subject: record,
        "action": action,
        "at": at,
        "actor": actor if (actor is not None and actor.is_authenticated) else None,
    }
    names = {f.name for f in model._meta.get_fields()}
    optional = {
        "from_status": from_status or "",
        "to_status": to_status or "",
        "note": _fit(model, note or ""),
        "data": data or {},
    }
    values.update({name: value for name, value in optional.items() if name in names})
    if "seq" in names:
        values["seq"] = seq if seq is not None else next_seq(model, record)
    values.update(fields)
    return model(**values)


def next_seq(model, record) -> int:
    """The number of the next event in ``record``'s log: 1, 2, 3 …"""
    last = model.objects.filter(**{model.subject: record}).aggregate(last=Max("seq"))["last"]
    return (last or 0) + 1


def _fit(model, note: str) -> str:
    field = model._meta.get_field("note") if any(f.name == "note" for f in model._meta.get_fields()) else None
    if isinstance(field, models.CharField) and field.max_length:
        return note[: field.max_length]
    return note
