"""What every lifecycle's property-based test checks after each random step, whatever the
lifecycle (cases, applications, emergencies, rectification tasks, proposals, meetings,
projects): the same rules hold for all of them because one engine applies them.

A test drives the real services with random actions by random people, and after each step
calls ``check_step``; at the end ``check_log``."""

import itertools

from jiedao.common.lifecycle import Lifecycle


def targets(lifecycle: Lifecycle, action: str, source: str) -> set:
    transition = lifecycle.transitions[action]
    if transition.target is None:
        return {source}
    if isinstance(transition.target, tuple):
        return set(transition.target)
    return {transition.target}


def check_step(
    lifecycle: Lifecycle,
    action: str,
    *,
    went_through: bool,
    before: str,
    after: str,
    events_before: list,
    events_after: list,
) -> None:
    """One step: ``before``/``after`` are the record's status, ``events_*`` its event log as
    (action, from_status, to_status) tuples, read from the database before and after."""
    if not went_through:
        assert after == before, f"{action} was refused but the status moved {before} → {after}"
        assert events_after == events_before, f"{action} was refused but the log changed"
        return
    if action in lifecycle.transitions:
        assert before in lifecycle.transitions[action].sources, f"{action} went through from {before}"
        assert after in targets(lifecycle, action, before), f"{action} led from {before} to {after}"
    new = events_after[len(events_before) :]
    assert events_after[: len(events_before)] == events_before, "history was edited"
    assert [e[0] for e in new].count(action) == 1, f"{action} wrote {new}"
    assert new[0][1] == before and new[-1][2] == after, f"{action}: the log says {new}, the record {before} → {after}"


def check_log(lifecycle: Lifecycle, status: str, events: list) -> None:
    """The log chains from state to state and ends in the record's status; every state is
    one the table knows (or the record's first)."""
    for earlier, later in itertools.pairwise(events):
        assert earlier[2] == later[1], f"the log jumps from {earlier} to {later}"
    if events:
        assert events[-1][2] == status, f"the log ends in {events[-1][2]}, the record is {status}"
    known = lifecycle.states()
    assert status in known or not events, f"{status} is not a state of {lifecycle.name}"
