"""The lifecycle engine: one order of checks with one set of answers, for every lifecycle; the
event written with the move; and no code outside the engine assigns a status."""

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

import jiedao
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.common.lifecycle import ANY, PUBLIC, Context, Lifecycle, Transition

SRC = Path(jiedao.__file__).resolve().parent


class Record(SimpleNamespace):
    """A record of a toy lifecycle: saves nothing, remembers what was saved."""

    def save(self, update_fields):
        self.saved = list(update_fields)


class User(SimpleNamespace):
    is_authenticated = True
    street_ids = None

    def has_role(self, *codes):
        return self.role in codes


def toy(**overrides):
    table = {
        t.action: t
        for t in [
            Transition("start", "开始", ("new",), "open", (("clerk", ANY),), stamps=("started_at",)),
            Transition("close", "关闭", ("open",), "closed", (("clerk", "own"),), needs_note=True),
            Transition("rate", "评价", ("closed",), ("done", "open"), (("resident", "own"), (None, PUBLIC))),
        ]
    }
    lifecycle = Lifecycle(
        name="toy", noun="玩具", transitions=table, scopes={"own": lambda u, r, c: r.owner == u.name}, **overrides
    )
    lifecycle.record = lambda record, action, user, **kw: ("event", action, kw["before"], kw["after"])
    return lifecycle


def test_the_checks_come_in_one_order_with_one_answer_each():
    lifecycle = toy()
    clerk, stranger = User(name="a", role="clerk"), User(name="b", role="clerk")
    record = Record(status="open", owner="a", number="N1")
    with pytest.raises(ValidationFailed) as unknown:
        lifecycle.check(clerk, record, "fly")
    assert unknown.value.errors[0]["field"] == "action"
    # The state is checked before the person: a stranger asking for a move the state forbids
    # hears about the state.
    with pytest.raises(InvalidTransition):
        lifecycle.check(stranger, record, "start")
    with pytest.raises(NotAllowed):
        lifecycle.check(stranger, record, "close", note="好了")
    with pytest.raises(ValidationFailed) as no_note:
        lifecycle.check(clerk, record, "close", note="  ")
    assert no_note.value.errors[0]["field"] == "note"
    assert lifecycle.check(clerk, record, "close", note="好了").action == "close"


def test_take_sets_the_status_and_the_time_fields_and_writes_the_event():
    lifecycle = toy()
    record = Record(status="new", owner="a", number="N1", started_at=None)
    event = lifecycle.take(User(name="a", role="clerk"), record, "start", at="09:00")
    assert record.status == "open" and record.started_at == "09:00"
    assert record.saved == ["status", "started_at"]
    assert event == ("event", "start", "new", "open")


def test_an_action_with_several_outcomes_takes_the_one_the_service_picks():
    lifecycle = toy()
    record = Record(status="closed", owner="a", number="N1")
    lifecycle.take(User(name="a", role="resident"), record, "rate", outcome="open")
    assert record.status == "open"
    record.status = "closed"
    with pytest.raises(ValueError):
        lifecycle.take(User(name="a", role="resident"), record, "rate", outcome="lost")


def test_someone_not_signed_in_acts_only_after_proving_who_they_are():
    lifecycle = toy()
    record = Record(status="closed", owner="a", number="N1")
    anonymous = SimpleNamespace(is_authenticated=False)
    assert not lifecycle.can_take(anonymous, record, "rate")
    assert lifecycle.can_take(anonymous, record, "rate", Context(proven=True))


def test_a_street_wide_role_acts_only_in_its_streets():
    lifecycle = toy()
    clerk = User(name="a", role="clerk", street_ids={1})
    assert lifecycle.can_take(clerk, Record(status="new", street_id=1), "start")
    assert not lifecycle.can_take(clerk, Record(status="new", street_id=2), "start")


def test_a_table_whose_roles_differ_from_the_permission_table_does_not_load():
    table = {"start": Transition("start", "开始", ("new",), "open", (("clerk", ANY),))}
    with pytest.raises(ImproperlyConfigured):
        Lifecycle(
            name="toy",
            noun="玩具",
            transitions=table,
            permission_prefix="toy",
            permission_roles=lambda name: frozenset({"boss"}),
        )
    Lifecycle(
        name="toy",
        noun="玩具",
        transitions=table,
        permission_prefix="toy",
        permission_roles=lambda name: frozenset({"clerk"}),
    )


def test_a_lifecycle_without_an_event_model_moves_the_record_and_writes_no_event():
    table = {"call": Transition("call", "叫号", ("waiting",), "called", (("clerk", ANY),), stamps=("called_at",))}
    lifecycle = Lifecycle(name="ticket", noun="排队号", transitions=table)
    record = Record(status="waiting", number="A001", called_at=None)
    assert lifecycle.take(User(name="a", role="clerk"), record, "call", at="09:00") is None
    assert (record.status, record.called_at, record.saved) == ("called", "09:00", ["status", "called_at"])
    assert lifecycle.record(record, "call", None) is None


def test_a_row_may_name_the_input_that_carries_its_note():
    table = {
        "submit": Transition(
            "submit", "提交", ("open",), "done", (("clerk", ANY),), needs_note=True, note_field="evidence"
        )
    }
    lifecycle = Lifecycle(name="toy", noun="玩具", transitions=table)
    with pytest.raises(ValidationFailed) as missing:
        lifecycle.check(User(name="a", role="clerk"), Record(status="open", number="N1"), "submit", note=" ")
    assert missing.value.errors[0]["field"] == "evidence"


# --- nobody else assigns a status -------------------------------------------------------------------

STATUS_FIELDS = {"status", "state"}


def _status_writes(path):
    """(line, text) of every assignment to ``<x>.status`` / ``<x>.state`` and every
    ``.update(status=…)`` in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(item, ast.Attribute) and item.attr in STATUS_FIELDS:
                    found.append((node.lineno, ast.unparse(node)[:80]))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and any(k.arg in STATUS_FIELDS for k in node.keywords)
        ):
            found.append((node.lineno, ast.unparse(node)[:80]))
    return found


def test_no_code_outside_the_engine_assigns_a_status():
    writes = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative == "common/lifecycle.py" or "/migrations/" in relative:
            continue
        writes += [f"{relative}:{line}: {text}" for line, text in _status_writes(path)]
    assert writes == []
