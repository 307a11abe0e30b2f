"""Cases on their way into the database: a ``CaseDraft`` starts with its intake (the ``create``
event) and moves only by the actions of the case lifecycle (``states.CASE``). Each step
checks that the table allows the action from the draft's state (``StepRefused`` otherwise), takes
the state the table leads to, changes the fields the service of that action changes, and appends
the event that service writes — the same action, actor and unit, from and to states, note and
data (the dispatch's from ``dispatching``, as the services'). Where a case goes and by when come
from ``cases.routing`` (``Routes`` remembers the responsibility list for one bulk write).

The system's records are the services' too: ``sla`` (a deadline sweep), ``absorb`` (the master of
a merged duplicate). ``restore`` (action ``import``) is the one step outside the table: an
imported history states a state its steps do not reach.
"""

import bisect
import datetime as dt

from django.utils.translation import gettext as _

from jiedao.common.lifecycle import assign_status
from jiedao.duties.selectors import route_for
from jiedao.workcal.calendar import SHANGHAI, add_workdays

from .. import states
from ..dispatching import collaborators_of, dispatch_data
from ..models import Extension, Rating, Status, Supervision, Urgency, Whistle, WhistleSummons
from ..routing import RouteDecision, deadlines_for, route_decision
from ..validation import verification_data

UTC = dt.UTC
# The action of the event that sets a state an imported history states but does not reach.
RESTORE_ACTION = "import"

_ACTOR = object()  # "the acting user's unit" (the default of ``actor_unit``)


class StepRefused(ValueError):
    """A step the case lifecycle does not allow from the draft's state."""


class _Event:
    """One row of the log before it is written (``seq`` is given when the case is written)."""

    __slots__ = (
        "action",
        "actor_id",
        "actor_unit_id",
        "at",
        "data",
        "from_status",
        "note",
        "refs",
        "to_status",
        "unit_id",
    )

    def __init__(self, at, action, actor_id, actor_unit_id, unit_id, from_status, to_status, note, data, refs):
        self.at = at
        self.action = action
        self.actor_id = actor_id
        self.actor_unit_id = actor_unit_id
        self.unit_id = unit_id
        self.from_status = from_status
        self.to_status = to_status
        self.note = note
        self.data = data
        self.refs = refs  # the data names drafts or rows that get their number or id when written


def _iso(value):
    return value.isoformat() if value else None


def _pk(obj):
    return obj.pk if obj is not None else None


class CaseDraft:
    """One case on its way into the database: its fields, its log, its ratings, extensions
    and whistles. ``mark``: data added to every event (an import names its file and line)."""

    __slots__ = (
        "address",
        "category",
        "channel",
        "closed_at",
        "community",
        "completion_due",
        "created_at",
        "created_by",
        "description",
        "dispatched_at",
        "duty_version",
        "events",
        "extension_count",
        "extensions",
        "grid",
        "id",
        "last_at",
        "lat",
        "lng",
        "mark",
        "master",
        "number",
        "ratings",
        "reporter",
        "reporter_name",
        "reporter_phone",
        "resolved_at",
        "responded_at",
        "response_due",
        "return_count",
        "rework_count",
        "routed_by",
        "status",
        "street_id",
        "supervised",
        "supervisions",
        "unit",
        "urgency",
        "whistles",
    )

    def __init__(
        self,
        *,
        channel,
        description,
        created_at,
        street_id,
        created_by=None,
        reporter=None,
        reporter_name="",
        reporter_phone="",
        address="",
        lat=None,
        lng=None,
        community=None,
        grid=None,
        category=None,
        number=None,
        mark=None,
    ):
        self.id = None
        self.number = number
        self.channel = channel
        self.description = description
        self.created_at = created_at
        self.created_by = created_by
        self.reporter = reporter
        self.reporter_name = reporter_name or ""
        self.reporter_phone = reporter_phone or ""
        self.address = address or ""
        self.lat, self.lng = lat, lng
        self.street_id = street_id
        self.community, self.grid = community, grid
        self.category = category
        self.unit = self.duty_version = self.master = None
        self.routed_by = ""
        self.dispatched_at = self.response_due = self.completion_due = None
        self.responded_at = self.resolved_at = self.closed_at = None
        self.urgency = Urgency.GREEN
        self.supervised = False
        self.return_count = self.rework_count = self.extension_count = 0
        self.events, self.ratings, self.extensions, self.whistles = [], [], [], []
        self.supervisions: list[Supervision] = []
        self.mark = mark
        self.last_at = created_at
        assign_status(self, "")
        self._append(
            "create",
            "",
            Status.NEW,
            created_at,
            created_by,
            data={
                "channel": str(channel),
                "category": category.code if category is not None else None,
                "grid": grid.code if grid is not None else None,
                "community": community.code if community is not None else None,
                "photos": 0,
            },
        )

    # What ``routing`` and ``services.urgency_at`` read of a case.
    @property
    def category_id(self):
        return _pk(self.category)

    @property
    def community_id(self):
        return _pk(self.community)

    @property
    def grid_id(self):
        return _pk(self.grid)

    @property
    def unit_id(self):
        return _pk(self.unit)

    # --- the table ------------------------------------------------------------------------------

    def allows(self, action) -> bool:
        return self.status in states.CASE.transitions[action].sources

    def _check(self, action, outcome=None):
        """``(before, after)`` for ``action`` from the draft's state, as the lifecycle says."""
        transition = states.CASE.transitions[action]
        before = self.status
        if before not in transition.sources:
            raise StepRefused(f"{self.number or self.created_at}: {action} from {before!r}")
        try:
            return before, states.CASE.next_status(transition, before, outcome)
        except ValueError as refused:  # an outcome the row does not have
            raise StepRefused(str(refused)) from None

    def _append(self, action, before, after, at, actor, note="", data=None, actor_unit=_ACTOR, refs=False):
        """Move to ``after`` and append the event (the unit after it is the draft's)."""
        assign_status(self, after)
        if actor_unit is _ACTOR:
            actor_unit_id = actor.unit_id if actor is not None else None
        else:
            actor_unit_id = _pk(actor_unit)
        data = data or {}
        if self.mark:
            data = {**data, **self.mark}
        self.events.append(
            _Event(
                at,
                action,
                _pk(actor),
                actor_unit_id,
                _pk(self.unit),
                before,
                after,
                note or "",
                data,
                refs,
            )
        )
        self.last_at = at

    def status_at(self, at):
        """``(status, unit id)`` after the last event at or before ``at``."""
        status, unit_id = "", None
        for event in self.events:
            if event.at > at:
                break
            status, unit_id = event.to_status, event.unit_id
        return status, unit_id

    # --- the dispatcher -----------------------------------------------------------------------

    def classify(self, category, *, at, actor):
        before, after = self._check("classify")
        old = self.category.code if self.category is not None else None
        self.category = category
        self._append("classify", before, after, at, actor, data={"from": old, "category": category.code})

    def dispatch(self, decision: RouteDecision, *, at, actor, manual=False, note="", due=None):
        """To the decision's unit, as ``dispatching.apply_dispatch`` sets a case, with deadlines
        from ``routing.deadlines_for`` (or ``due``, the ``(response_due, completion_due)`` a
        history states), and the event data of ``dispatching.dispatch_data``. Collaborating
        units the decision names get the co-handling task (协办), which is returned (None
        without them)."""
        before, after = self._check("dispatch")
        unit = decision.unit
        self.unit = unit
        self.routed_by = str(decision.reason)[:200]
        self.duty_version = decision.duty_version
        self.dispatched_at = at
        if due is None:
            due = deadlines_for(self.category, at, decision.duty_version)
        self.response_due, self.completion_due = due
        self.responded_at = None
        self.urgency = Urgency.GREEN
        collaborators = collaborators_of(self, decision) if decision.collaborators else []
        data = dispatch_data(self, decision, manual=manual)
        self._append("dispatch", before, after, at, actor, note=note, data=data)
        if not collaborators:
            return None
        cohandle = Whistle(
            kind=Whistle.Kind.COHANDLE,
            blown_by=actor,
            blown_at=at,
            report_due=self.response_due,
            reason=_("权责清单协办：%(reason)s") % {"reason": self.routed_by},
        )
        self.whistles.append((cohandle, [WhistleSummons(unit=c) for c in collaborators]))
        return cohandle

    def merge(self, master, *, at, actor, note=""):
        """并案 into ``master``, a draft of the same batch whose log gets the ``absorb`` (None
        when a history does not say which case it went into)."""
        before, after = self._check("merge")
        self.master = master
        self.closed_at = at
        if self.category is None and master is not None:
            self.category = master.category
        self._append("merge", before, after, at, actor, note=note, data={"master": master}, refs=True)
        if master is not None:
            master.absorb(self, at=at, actor=actor)

    def absorb(self, duplicate: "CaseDraft", *, at, actor):
        """The master's record of a duplicate merged into it, in its log at ``at`` (which may be
        earlier than the master's last step)."""
        if self.id is not None:
            raise StepRefused(f"{self.number}: the master of a merge is written in the duplicate's batch")
        status, unit_id = self.status_at(at)
        event = _Event(
            at,
            "absorb",
            _pk(actor),
            actor.unit_id if actor is not None else None,
            unit_id,
            status,
            status,
            "",
            {**{"duplicate": duplicate}, **(self.mark or {})},
            True,
        )
        position = bisect.bisect_right([e.at for e in self.events], at)
        self.events.insert(position, event)

    # --- the unit -------------------------------------------------------------------------------

    def return_(self, *, at, actor, reason):
        """退单: the unit gives the case back to the dispatcher."""
        before, after = self._check("return")
        unit = self.unit
        self.return_count += 1
        self.unit = None
        self._append("return", before, after, at, actor, note=reason, actor_unit=unit, data={"unit": unit.code})

    def respond(self, *, at, actor, note=""):
        before, after = self._check("respond")
        self.responded_at = at
        on_time = self.response_due is None or at <= self.response_due
        self._append("respond", before, after, at, actor, note=note, data={"on_time": on_time})

    def note(self, *, at, actor, note):
        before, after = self._check("note")
        self._append("note", before, after, at, actor, note=note)

    def request_extension(self, *, at, actor, extra_workdays, reason) -> Extension:
        before, after = self._check("request_extension")
        extension = Extension(requested_by=actor, requested_at=at, extra_workdays=extra_workdays, reason=reason)
        self.extensions.append(extension)
        self._append(
            "request_extension",
            before,
            after,
            at,
            actor,
            note=reason,
            data={"extension": extension, "extra_workdays": extra_workdays},
            refs=True,
        )
        return extension

    def decide_extension(self, extension: Extension, *, approve, at, actor, note=""):
        """A leader's decision; an approval moves the completion deadline by the extra working
        days, to the end of that day."""
        action = "approve_extension" if approve else "refuse_extension"
        before, after = self._check(action)
        extension.decision = Extension.Decision.APPROVED if approve else Extension.Decision.REFUSED
        extension.decided_by = actor
        extension.decided_at = at
        extension.decision_note = note or ""
        data = {"extension": extension}
        if approve:
            old_due = self.completion_due
            base = (old_due or at).astimezone(SHANGHAI).date()
            new_date = add_workdays(base, extension.extra_workdays)
            self.completion_due = dt.datetime.combine(new_date, dt.time(23, 59, 59), SHANGHAI).astimezone(UTC)
            self.extension_count += 1
            self.urgency = Urgency.GREEN
            data.update({"completion_due_before": _iso(old_due), "completion_due": _iso(self.completion_due)})
        self._append(action, before, after, at, actor, note=note, data=data, refs=True)

    def whistle(self, *, at, actor, units, report_hours, reason) -> Whistle:
        """吹哨: ``units`` summoned to report within ``report_hours``; returns the whistle."""
        before, after = self._check("whistle")
        whistle = Whistle(blown_by=actor, blown_at=at, report_due=at + dt.timedelta(hours=report_hours), reason=reason)
        self.whistles.append((whistle, [WhistleSummons(unit=unit) for unit in units]))
        self._append(
            "whistle",
            before,
            after,
            at,
            actor,
            note=reason,
            data={"whistle": whistle, "units": [u.code for u in units], "report_due": _iso(whistle.report_due)},
            refs=True,
        )
        return whistle

    def report(self, whistle: Whistle, *, at, actor, part):
        """报到 of the actor's unit to a whistle or co-handling task of this draft."""
        before, after = self._check("report")
        summons = next(s for s in self.summonses_of(whistle) if s.unit_id == actor.unit_id)
        summons.reported_at, summons.reported_by, summons.part = at, actor, part
        self._append(
            "report",
            before,
            after,
            at,
            actor,
            note=part,
            data={"whistle": whistle, "on_time": at <= whistle.report_due},
            refs=True,
        )

    def summonses_of(self, whistle: Whistle) -> list:
        """The units' summonses of one of the draft's whistles or co-handling tasks."""
        return next(summonses for w, summonses in self.whistles if w is whistle)

    # A 督办's reply deadline when a history does not state one.
    SUPERVISION_DAYS = 1

    def supervise(self, *, at, actor, note, due=None) -> Supervision:
        """督办 with its reply deadline (``due``, a day after when not given), as the service."""
        before, after = self._check("supervise")
        if any(s.replied_at is None for s in self.supervisions):
            raise StepRefused(f"{self.number}: a supervision is still waiting for its reply")
        due = due or at + dt.timedelta(days=self.SUPERVISION_DAYS)
        supervision = Supervision(unit=self.unit, issued_by=actor, issued_at=at, due=due, requirement=note)
        self.supervisions.append(supervision)
        self.supervised = True
        data = {"supervision": supervision, "due": _iso(due)}
        self._append("supervise", before, after, at, actor, note=note, data=data, refs=True)
        return supervision

    def reply_to_supervision(self, *, at, actor, reply):
        """答复督办: the unit answers the 督办 waiting for its reply."""
        before, after = self._check("supervise_reply")
        supervision = next((s for s in self.supervisions if s.replied_at is None), None)
        if supervision is None:
            raise StepRefused(f"{self.number}: no supervision is waiting for a reply")
        supervision.replied_at, supervision.replied_by, supervision.reply = at, actor, reply
        data = {"supervision": supervision, "due": _iso(supervision.due), "on_time": at <= supervision.due}
        self._append("supervise_reply", before, after, at, actor, note=reply, data=data, refs=True)

    def resolve(self, *, at, actor, result, outcome=None):
        """办结反馈: on to verification when the category asks for it, else to the rating
        (``outcome`` when a history states which)."""
        if outcome is None:
            needs = self.category is not None and self.category.needs_verification
            outcome = Status.VERIFYING if needs else Status.RATING
        before, after = self._check("resolve", outcome)
        self.resolved_at = at
        self.urgency = Urgency.GREEN
        on_time = self.completion_due is None or at <= self.completion_due
        self._append("resolve", before, after, at, actor, note=result, data={"on_time": on_time, "photos": 0})

    def verify(self, *, passed, at, actor, note="", reason=""):
        """核查 as a history states it. With the reason the history gives, the event says what the
        service's would of a check without photo or position; a history that says nothing of how
        the check was made records nothing of it."""
        action = "verify_pass" if passed else "verify_fail"
        before, after = self._check(action)
        if not passed:
            self.resolved_at = None
        data = verification_data(photos=0, reason=reason) if reason else None
        self._append(action, before, after, at, actor, note=note, data=data)

    # --- rating and closing -------------------------------------------------------------------

    def rate(self, *, at, actor, resolved, satisfaction, source, comment="", reopen=None, due=None, unit=None):
        """回访评价 of the round, of the unit holding the case (or ``unit``, the one a history
        names). Unresolved or 不满意 reopens the case (or ``reopen``, as a history states) with
        deadlines from the rating on (or ``due``); otherwise it closes."""
        if reopen is None:
            reopen = (not resolved) or satisfaction == Rating.Satisfaction.UNSATISFIED
        before, after = self._check("rate", Status.IN_PROGRESS if reopen else Status.CLOSED)
        round_number = len(self.ratings) + 1
        # The rating row, in RATING_COLUMNS order after the case.
        self.ratings.append(
            (_pk(unit or self.unit), round_number, resolved, str(satisfaction), str(source), comment or "", at)
        )
        data = {
            "resolved": resolved,
            "satisfaction": str(satisfaction),
            "source": str(source),
            "round": round_number,
            "reopen": reopen,
        }
        if reopen:
            self.rework_count += 1
            self.resolved_at = None
            if due is None:
                due = deadlines_for(self.category, at, self.duty_version)
            self.response_due, self.completion_due = due
            self.urgency = Urgency.GREEN
            data.update({"response_due": _iso(self.response_due), "completion_due": _iso(self.completion_due)})
        else:
            self.closed_at = at
        self._append("rate", before, after, at, actor, note=comment, data=data)

    def close(self, *, at, actor, note):
        before, after = self._check("close")
        self.closed_at = at
        self._append("close", before, after, at, actor, note=note)

    # --- the system -----------------------------------------------------------------------------

    def sweep(self, level, *, at):
        """The deadline sweep turning the case ``level`` (yellow, red, or green again)."""
        before = self.urgency
        self.urgency = level
        self._append("sla", self.status, self.status, at, None, data={"from": before, "urgency": level})

    def restore(self, status, *, at, note=""):
        """An imported history's state that its steps do not reach (e.g. a result without a
        response): one ``import`` event from the draft's state to ``status``."""
        self._append(RESTORE_ACTION, self.status, status, at, None, note=note)

    def restore_for(self, action, *, at):
        """Where a history skipped the steps before ``action`` (a result without a response):
        the first state the table lets ``action`` start from, unless the draft is in one."""
        sources = states.CASE.transitions[action].sources
        if self.status not in sources:
            self.restore(sources[0], at=at)


class Routes:
    """``routing.route_decision`` for the length of one bulk write, remembering what the
    responsibility list says per category and community (the list, the rules and the default
    units do not change while it runs; reading the list is what costs)."""

    def __init__(self):
        self._duties = {}

    def decision(self, case) -> RouteDecision:
        return route_decision(case, duty_route=self._duty_route)

    def _duty_route(self, category, community_id):
        key = (_pk(category), community_id)
        if key not in self._duties:
            self._duties[key] = route_for(category, community_id)
        return self._duties[key]
