"""One engine for every lifecycle: cases, service-hall applications, emergencies, rectification
tasks and the proposals, meetings and projects of participation.

A lifecycle is a table of ``Transition`` rows — action, label, the states it may start from, the
state it leads to, who may take it (role and scope), whether a note is required, which time
fields it stamps — held in a ``Lifecycle`` with the labels of the actions the system records by
itself. The app's ``states.py`` holds the table as data; ``take`` is the one function that moves
a record. No other code assigns a status (``tests/common/test_lifecycle.py`` reads the source to
make sure).

The order of the checks is the same for every lifecycle, and so are the answers
(docs/api.md, "Errors"):

0. the role may take the action at all — the permission table (``org.permissions``), checked by
   the service before it looks the record up: 403 whatever the record;
1. the action exists: otherwise 422 naming the field ``action``;
2. the record's state allows it: otherwise 409 (``InvalidTransition``);
3. this user may take it on this record (a role of the row with its scope: own unit, own grid,
   own report …): otherwise 403 (``NotAllowed``);
4. the note, when the row requires one: otherwise 422 naming the note's field.

Then ``take`` sets the status and the row's time fields, saves them, and appends the event
(``common.events.append``) — in the caller's transaction, with the record locked by the caller.

Scopes are decided by the app, which knows its records: ``Lifecycle.scopes`` maps a scope's
name to ``check(user, record, context) -> bool``; ``ANY`` (every user of the role, within the
streets the user answers for when the record has a street) and ``PUBLIC`` (whoever proved to
be the person concerned: ``context.proven``) are known to every lifecycle.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events
from .errors import InvalidTransition, NotAllowed, ValidationFailed

ANY = "any"
PUBLIC = "public"  # anyone who proved to be the person concerned (a phone, a signed link)

Actor = tuple[str | None, str]  # (role code, or None for someone not signed in; scope)


@dataclass(frozen=True)
class Transition:
    action: str
    label: Any  # a lazy translation
    sources: tuple[str, ...]
    # The next state; None keeps the state; a tuple lists the possible outcomes, one of which
    # the service picks from the action's input (e.g. a rating closes or reopens a case).
    target: str | tuple[str, ...] | None
    who: tuple[Actor, ...]
    needs_note: bool = False
    stamps: tuple[str, ...] = ()  # time fields of the record set to the moment of the action
    # The input that carries the note, when not the lifecycle's ``note_field`` (e.g. the evidence
    # submitted with a rectification task): a missing note is refused naming this field.
    note_field: str = ""

    @property
    def roles(self) -> frozenset:
        return frozenset(role for role, _scope in self.who if role)


@dataclass(frozen=True)
class Context:
    """What a scope check may need besides the user and the record."""

    proven: bool = False  # the person concerned proved who they are (a phone, a signed link)
    extra: Mapping[str, Any] = field(default_factory=dict)


ScopeCheck = Callable[[Any, Any, Context], bool]


@dataclass
class Lifecycle:
    """One lifecycle: its table, the system's own actions, and how its records are read.

    ``noun`` names a record for messages ("工单"); ``number`` gives a record's number for them;
    ``permission_prefix`` ties the table's roles to the permission table (``case`` → the rows
    ``case.<action>``); ``status_field`` is the record's status field; ``event_model`` the model
    of its event log, written by ``common.events.append`` — or None for a small status machine
    that keeps no log (a queue ticket, an appointment): its moves write no event."""

    name: str
    noun: Any
    transitions: Mapping[str, Transition]
    event_model: Any = None
    system_actions: Mapping[str, Any] = field(default_factory=dict)
    status_field: str = "status"
    permission_prefix: str | None = None
    # The permission table's roles of an action name (``org.permissions.signed_in_roles``): the
    # rows must name the same roles, or the lifecycle refuses to load.
    permission_roles: Callable[[str], frozenset] | None = None
    scopes: dict[str, ScopeCheck] = field(default_factory=dict)
    number: Callable[[Any], str] = lambda record: str(getattr(record, "number", "") or record.pk)
    note_field: str = "note"

    def __post_init__(self):
        for action, transition in self.transitions.items():
            if action != transition.action:
                raise ImproperlyConfigured(f"{self.name}: the row of {action!r} names {transition.action!r}")
        if self.permission_prefix and self.permission_roles is not None:
            for transition in self.transitions.values():
                name = f"{self.permission_prefix}.{transition.action}"
                if transition.roles != self.permission_roles(name):
                    raise ImproperlyConfigured(
                        f"{self.name} {transition.action}: the roles differ from the permission table's {name}"
                    )

    # --- reading the table ---------------------------------------------------------------------

    def get(self, action: str) -> Transition:
        """The row of ``action``; an unknown action is bad input (422 on ``action``)."""
        try:
            return self.transitions[action]
        except (KeyError, TypeError):
            raise ValidationFailed("action", _("未知操作“%(action)s”。") % {"action": action}) from None

    def label(self, action: str) -> str:
        if action in self.transitions:
            return str(self.transitions[action].label)
        return str(self.system_actions.get(action, action))

    def available(self, status: str) -> list[Transition]:
        """The rows that may start from ``status``, in the table's order."""
        return [t for t in self.transitions.values() if status in t.sources]

    def next_status(self, transition: Transition, status: str, outcome: str | None = None) -> str:
        if transition.target is None:
            return status
        if isinstance(transition.target, tuple):
            if outcome not in transition.target:
                raise ValueError(
                    f"{self.name} {transition.action}: outcome {outcome!r} is not one of {transition.target}"
                )
            return outcome
        return transition.target

    def states(self) -> set:
        """Every state named by the table."""
        found = set()
        for t in self.transitions.values():
            found.update(t.sources)
            if isinstance(t.target, tuple):
                found.update(t.target)
            elif t.target is not None:
                found.add(t.target)
        return found

    # --- who may -------------------------------------------------------------------------------

    def may(self, user, record, transition: Transition, context: Context = Context()) -> bool:
        """Whether ``user`` may take ``transition`` on ``record`` by role and scope (not state)."""
        signed_in = user is not None and user.is_authenticated
        for role, scope in transition.who:
            if scope == PUBLIC:
                if context.proven:
                    return True
                continue
            if not (signed_in and role and user.has_role(role)):
                continue
            if scope == ANY:
                if _in_streets(user, record):
                    return True
                continue
            check = self.scopes.get(scope)
            if check is None:
                raise ImproperlyConfigured(f"{self.name}: no check for the scope {scope!r}")
            if check(user, record, context):
                return True
        return False

    def can_take(self, user, record, action: str, context: Context = Context()) -> bool:
        """State and who may, without raising: for the buttons a page shows."""
        transition = self.transitions.get(action)
        return (
            transition is not None
            and self._status(record) in transition.sources
            and self.may(user, record, transition, context)
        )

    def check_state(self, record, transition: Transition) -> None:
        """Check 2 alone: the record's state allows ``transition`` (409 otherwise)."""
        if self._status(record) not in transition.sources:
            raise InvalidTransition(
                _("%(noun)s %(number)s 当前状态为“%(status)s”，不能“%(action)s”。")
                % {
                    "noun": self.noun,
                    "number": self.number(record),
                    "status": self._status_label(record),
                    "action": transition.label,
                }
            )

    def check(self, user, record, action: str, note: str = "", context: Context = Context()) -> Transition:
        """Checks 1–4 of the module's order; the row when all pass."""
        transition = self.get(action)
        self.check_state(record, transition)
        if not self.may(user, record, transition, context):
            raise NotAllowed(
                _("您无权对%(noun)s %(number)s 执行“%(action)s”。")
                % {"noun": self.noun, "number": self.number(record), "action": transition.label}
            )
        if transition.needs_note and not (note or "").strip():
            raise ValidationFailed(
                transition.note_field or self.note_field,
                _("“%(action)s”需要填写说明，此项为必填。") % {"action": transition.label},
            )
        return transition

    # --- moving a record -----------------------------------------------------------------------

    def take(
        self,
        user,
        record,
        action: str,
        *,
        note: str = "",
        outcome: str | None = None,
        at=None,
        context: Context = Context(),
        data: dict | None = None,
        save_fields: tuple[str, ...] = (),
        event: dict | None = None,
        checked: Transition | None = None,
    ):
        """Check (unless the service already did: ``checked``), then set the status and the row's
        time fields, save them with ``save_fields`` (other fields the service changed), and
        append the event. Returns the event row. The caller holds the transaction and the lock."""
        transition = checked or self.check(user, record, action, note, context)
        at = at or timezone.now()
        before = self._status(record)
        after = self.next_status(transition, before, outcome)
        setattr(record, self.status_field, after)
        for stamp in transition.stamps:
            setattr(record, stamp, at)
        fields = [self.status_field, *transition.stamps, *save_fields]
        record.save(update_fields=list(dict.fromkeys(fields)))
        return self.record(
            record, action, user, before=before, after=after, note=note, at=at, data=data, **(event or {})
        )

    def record(
        self,
        record,
        action: str,
        user,
        *,
        before: str | None = None,
        after: str | None = None,
        note: str = "",
        at=None,
        data: dict | None = None,
        **fields,
    ):
        """Append an event of an action that does not move the record (or that the service
        moved by a rule of its own, e.g. the system's): the states default to the record's.
        A lifecycle without an event model writes nothing (and returns None)."""
        if self.event_model is None:
            return None
        status = self._status(record)
        return events.append(
            self.event_model,
            record,
            action=action,
            actor=user,
            at=at or timezone.now(),
            from_status=status if before is None else before,
            to_status=status if after is None else after,
            note=note,
            data=data,
            **fields,
        )

    # --- helpers -------------------------------------------------------------------------------

    def _status(self, record) -> str:
        return getattr(record, self.status_field)

    def _status_label(self, record) -> str:
        display = getattr(record, f"get_{self.status_field}_display", None)
        return str(display()) if display else self._status(record)


def _in_streets(user, record) -> bool:
    """A street-wide role acts within the streets it answers for (all, for a superuser or a
    one-street installation): records without a street are everyone's."""
    street_id = getattr(record, "street_id", None)
    ids = getattr(user, "street_ids", None)
    return street_id is None or ids is None or street_id in ids


def assign_status(record, value, field_name: str = "status") -> None:
    """Set a status outside a person's transition — the system's own moves (a whistle's
    deadline, a vote's count, a bundle completing) — through the engine's one door, so that a
    test can find every place that changes a status."""
    setattr(record, field_name, value)


def update_status(queryset, value, field_name: str = "status", **fields) -> int:
    """Set the status of every row of ``queryset`` in one UPDATE (with ``fields``), through the
    engine's one door: the system's bulk moves, and the compare-and-set claims of a queue — a
    queryset filtered on the expected status, so that of two workers only one claims a row.
    Returns the number of rows moved."""
    return queryset.update(**{field_name: value}, **fields)
