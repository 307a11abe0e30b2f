"""Reads of cases. Every selector takes the user and returns only what that user may see."""

import datetime as dt
import hmac
import time
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common import search as search_engine
from jiedao.common import selectors as common_selectors
from jiedao.common.crypto import blind_index
from jiedao.common.errors import NotFound, ValidationFailed
from jiedao.common.masking import mask_name, mask_personal_text
from jiedao.common.params import AwareDatetime, Cursor, RowId
from jiedao.duties import selectors as duty_selectors
from jiedao.geo.locate import grid_id_at
from jiedao.org.models import Community, Grid, Street
from jiedao.org.selectors import in_streets, street_records
from jiedao.workcal.calendar import SHANGHAI, start_of_day

from . import hooks
from . import supervision as supervision_rules
from .models import (
    NOT_MATTERS,
    OPEN_STATUSES,
    WORKING_STATUSES,
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    Extension,
    Rating,
    RoutingRule,
    Status,
    Supervision,
    Urgency,
    WhistleSummons,
)
from .rules import overdue_q, urgency_at, urgency_expression
from .states import CASE
from .validation import LANDLINE, MOBILE, normalise_phone


def visible_cases(user):
    """Scoping in one place: street-wide roles see all of their street, district users all
    of their district's streets; a unit its own and summoned
    cases; a grid worker the cases of their grids and their own reports; a resident only their own."""
    qs = Case.objects.all()
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.sees_whole_street or user.sees_district:
        return qs.filter(in_streets(user))
    # The cases the user is related to, as one UNION of indexed look-ups (the unit's cases,
    # its summonses, its returns; the grids'; their own reports) that the case table is
    # then joined to: no OR across tables, so a large case table is never scanned.
    parts = []
    if user.has_role("handler") and user.unit_id:
        parts.append(Case.objects.filter(unit_id=user.unit_id).values("pk"))
        parts.append(WhistleSummons.objects.filter(unit_id=user.unit_id).values("whistle__case_id"))
        # A unit also keeps seeing cases it returned or once held.
        parts.append(CaseEvent.objects.filter(action="return", actor_unit_id=user.unit_id).values("case_id"))
    if user.has_role("grid"):
        # Their grids' cases, and what they reported themselves even outside their grids.
        parts.append(Case.objects.filter(grid__in=user.grids.all()).values("pk"))
        parts.append(Case.objects.filter(created_by_id=user.pk).values("pk"))
    if user.has_role("resident"):
        parts.append(Case.objects.filter(reporter_id=user.pk).values("pk"))
    if not parts:
        return qs.none()
    parts = [part.order_by() for part in parts]  # a part of a UNION may not be ordered
    return qs.filter(pk__in=parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0])


def received_cases(start_day, end_day):
    """The cases received on the Beijing dates [start_day, end_day), merged duplicates left
    out, each annotated with its ``day``: what the rollups count (not scoped to a user)."""
    return (
        Case.objects.filter(created_at__gte=start_of_day(start_day), created_at__lt=start_of_day(end_day))
        .exclude(status__in=NOT_MATTERS)
        .annotate(day=TruncDate("created_at", tzinfo=SHANGHAI))
        .order_by()
    )


def case_for(user, number):
    case = (
        visible_cases(user)
        .select_related("category", "unit", "grid", "community", "master")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound(_("工单 %(number)s 不存在或您无权查看。") % {"number": number})
    return case


def photo_visible(user, path) -> bool:
    """Whether ``path`` is exactly the stored name of a case photo that ``user`` may see (the
    case's scoping)."""
    return CasePhoto.objects.filter(image=path, case__in=visible_cases(user)).exists()


def public_case(number, phone):
    """A case found by its number and the reporter's phone (resident without an account). A
    wrong number and a wrong phone are answered alike, after the same work."""
    index = blind_index(normalise_phone(phone))
    case = Case.objects.select_related("category", "unit", "master").filter(number=(number or "").strip()).first()
    known = case.reporter_phone_index if case is not None and case.reporter_phone_index else ""
    if not hmac.compare_digest(index, known):
        raise NotFound(_("没有找到与该手机号匹配的工单，请核对工单号和手机号。"))
    return case


def events_of(case):
    return list(CaseEvent.objects.filter(case=case).select_related("actor", "actor_unit", "unit").order_by("seq"))


def timeline(user, case):
    """The case's log as ``user`` may read it (the case page and the API): each event with
    ``actor_shown``, ``note_shown`` and ``data_shown``. Whoever sees the reporter masked
    (``may_see_reporter``) sees the reporter's own name masked where the reporter acted (a
    resident's report, rating or merge), and the phones and identity numbers written in
    notes and data masked."""
    masked = not may_see_reporter(user, case)
    events = events_of(case)
    for event in events:
        name = str(event.actor) if event.actor_id is not None else ""
        by_reporter = event.actor_id is not None and event.actor_id == case.reporter_id
        event.actor_shown = mask_name(name) if masked and by_reporter else name
        event.note_shown = mask_personal_text(event.note) if masked else event.note
        event.data_shown = _masked_data(event.data) if masked else event.data
    return events


def _masked_data(value):
    if isinstance(value, str):
        return mask_personal_text(value)
    if isinstance(value, dict):
        return {key: _masked_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_data(item) for item in value]
    return value


def allowed_actions(user, case):
    """The actions this user may take on the case now (its state, the user's role and scope),
    in table order: the rows the services would let through, as the lifecycle decides. 答复督办
    is offered while a 督办 waits for its reply, and a new 督办 only when none does."""
    allowed = [t for t in CASE.available(case.status) if CASE.may(user, case, t)]
    if any(t.action in ("supervise", "supervise_reply") for t in allowed):
        waiting = case.supervisions.filter(replied_at__isnull=True).exists()
        hidden = "supervise" if waiting else "supervise_reply"
        allowed = [t for t in allowed if t.action != hidden]
    if any(t.action in supervision_rules.DECISIONS for t in allowed):
        # 认可答复 / 退回重答 while a reply waits for the decision, for a leader or its issuer.
        item = supervision_rules.awaiting_decision(case.pk).first()
        deciding = item is not None and (user.has_role("leader") or item.issued_by_id == user.pk)
        if not deciding:
            allowed = [t for t in allowed if t.action not in supervision_rules.DECISIONS]
    return allowed


# --- lists with keyset pagination ---------------------------------------------

# [created_at, id] for the newest-first list, [completion_due or null, id] for the deadline list.
_CREATED_CURSOR = Cursor(AwareDatetime, RowId)
_DUE_CURSOR = Cursor(AwareDatetime | None, RowId)


LIST_FIELDS = ("category", "unit", "grid", "community")


def case_list(
    user, *, status=None, unit=None, category=None, urgency=None, q=None, cursor=None, limit=50, order="created"
):
    """A page of cases the user may see, newest first (``order='created'``) or by
    deadline (``order='due'``). Returns ``(cases, next_cursor)``; a fixed number of queries.
    ``urgency`` (green / yellow / red) and each row's ``urgency`` are the case page's deadline
    rule now (``rules.urgency_at``), not the level the last deadline sweep stored."""
    now = timezone.now()
    qs = _listed(user, status=status, unit=unit, category=category, q=q)
    if urgency:
        qs = cases_at_level(qs, urgency, now=now)
    rows, next_cursor = _page(user, with_live_urgency(qs, now=now), q=q, cursor=cursor, limit=limit, order=order)
    for case in rows:
        # The level shown with each row is the one the filter used, not the last sweep's.
        case.urgency = case.live_urgency
    return rows, next_cursor


def _listed(user, *, status, unit, category, q):
    """The user's visible cases with the list filters every case list shares."""
    qs = visible_cases(user).select_related(*LIST_FIELDS)
    if status:
        statuses = [s for s in status.split(",") if s]
        bad = [s for s in statuses if s not in Status.values and s != "open"]
        if bad:
            raise ValidationFailed("status", _("状态“%(value)s”无效。") % {"value": ",".join(bad)})
        if "open" in statuses:
            statuses = [s for s in statuses if s != "open"] + list(OPEN_STATUSES)
        qs = qs.filter(status__in=statuses)
    if unit:
        qs = qs.filter(unit__code=unit)
    if category:
        node = Category.objects.filter(code=category).first()
        if node is None:
            raise ValidationFailed("category", _("分类代码“%(code)s”不存在。") % {"code": category})
        qs = qs.filter(Q(category=node) | Q(category__parent=node) | Q(category__parent__parent=node))
    if q:
        q = params.search_text(q)
        qs = qs.filter(Q(number__icontains=q) | Q(description__icontains=q))
    return qs


def _page(user, qs, *, q, cursor, limit, order):
    """One page of ``qs`` after ``cursor``, newest first or by deadline: ``(cases, next_cursor)``."""
    if q:
        q = params.search_text(q)
    limit = max(1, min(int(limit), 200))
    if order == "due":
        # Deadline first; cases without a deadline last, then by id.
        qs = qs.order_by(F_nulls_last("completion_due"), "id")
        if cursor:
            due, last_id = _DUE_CURSOR.decode(cursor)
            if due is None:
                qs = qs.filter(completion_due__isnull=True, id__gt=last_id)
            else:
                qs = qs.filter(
                    Q(completion_due__gt=due) | Q(completion_due=due, id__gt=last_id) | Q(completion_due__isnull=True)
                )
        rows = list(qs[: limit + 1])
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = _DUE_CURSOR.encode(last.completion_due, last.id)
        return _found_by_text(user, rows[:limit], q), next_cursor
    qs = qs.order_by("-created_at", "-id")
    if cursor:
        created, last_id = _CREATED_CURSOR.decode(cursor)
        qs = qs.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=last_id))
    rows = list(qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _CREATED_CURSOR.encode(last.created_at, last.id)
    return _found_by_text(user, rows[:limit], q), next_cursor


def _found_by_text(user, rows, q):
    """The rows a search with digits may show. Searching descriptions for digits would confirm,
    a few at a time, the hidden digits of a phone or identity number written in them: a case
    whose reporter the user sees masked is kept only if its number or its description as the
    user reads it (``mask_personal_text``) contains the search. A page may then hold fewer rows
    than asked for; ``next_cursor`` still goes on from the last row read."""
    if not q or not any(char.isdecimal() for char in q):
        return rows
    sees = reporter_rule(user)
    wanted = q.casefold()
    return [
        case
        for case in rows
        if sees(case) or wanted in case.number.casefold() or wanted in mask_personal_text(case.description).casefold()
    ]


def F_nulls_last(field):
    return F(field).asc(nulls_last=True)


def dispatcher_queue(user):
    """New, returned and unrouted cases for the dispatcher: three lists, oldest first."""
    qs = visible_cases(user).select_related(*LIST_FIELDS).order_by("created_at", "id")
    return {
        "new": list(qs.filter(status=Status.NEW, category__isnull=False)[:100]),
        "unclassified": list(qs.filter(status=Status.NEW, category__isnull=True)[:100]),
        "returned": list(qs.filter(status=Status.RETURNED)[:100]),
    }


def pending_extensions(user):
    if not user.has_role("leader", "admin"):
        return []
    return list(
        Extension.objects.filter(decision=Extension.Decision.PENDING, case__in=visible_cases(user))
        .select_related("case", "case__unit", "requested_by")
        .order_by("requested_at")
    )


def category_tree():
    """All active categories as nested dicts, for pickers."""
    nodes = list(
        Category.objects.filter(active=True).order_by("code").values("id", "parent_id", "code", "name", "level")
    )
    by_parent = {}
    for node in nodes:
        by_parent.setdefault(node["parent_id"], []).append(node)
    for node in nodes:
        node["children"] = by_parent.get(node["id"], [])
    return by_parent.get(None, [])


# --- the category search (one search: names, vocabulary, duty list, model) ---------------


@dataclass
class CategoryMatch:
    """A category found for words typed at intake or classification, with why it was found."""

    code: str
    label: str
    score: float
    why: str = ""


def _category_docs(tree) -> list[search_engine.Doc]:
    """Every category a case can be filed under (leaves, and middle levels without children),
    with its path and the names and phrasings of the duties routed by it."""
    duties: dict[int, list] = {}
    for version in duty_selectors.in_force_now():
        for category in version.categories.all():
            duties.setdefault(category.pk, []).append(version)
    docs = []
    for top in tree:
        for mid in top["children"]:
            for leaf in mid["children"] or [mid]:
                path = [top["name"], mid["name"]] + ([leaf["name"]] if leaf is not mid else [])
                own = "" if leaf["name"] == "其他" else leaf["name"]
                fields = [(own, 1.0), (mid["name"], 0.5), (top["name"], 0.3), (leaf["code"], 1.0)]
                for version in duties.get(leaf["id"], []):
                    fields += [(version.name, 0.8), (version.keywords, 0.8)]
                docs.append(search_engine.doc(leaf["code"], fields, " / ".join(path)))
    return docs


def find_categories(q: str, *, tree=None, limit: int = 20) -> list[CategoryMatch]:
    """Categories for words as people type them (垃圾, 暖气不热, 楼道里电动车充电), best first:
    their names and paths, the search vocabulary an administrator keeps, the phrasings of the
    responsibility list, and the model's suggestions (智能分拨), ranked together."""
    tree = category_tree() if tree is None else tree
    vocabulary = common_selectors.vocabulary()
    query = search_engine.parse(q, vocabulary)
    if query.empty:
        return []
    docs = _category_docs(tree)
    scores: dict[str, float] = {}
    for score, d in search_engine.rank(query, docs):
        scores[d.key] = score
    by_code = {d.key: d for d in docs}
    suggested = set()
    for code, probability in hooks.category_suggester(query.text, 5) or []:
        for key in by_code:
            if key == code:
                scores[key] = scores.get(key, 0.0) + probability
                suggested.add(key)
            elif key.startswith(code) and key in scores:
                scores[key] += 0.3 * probability
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [
        CategoryMatch(key, by_code[key].payload, score, _("智能分拨建议") if key in suggested else "")
        for key, score in ranked
    ]


# --- added for the pages ------------------------------------------------------


def reporter_rule(user):
    """A function ``case → bool`` with the answers of ``may_see_reporter`` for this user, the
    user's grids read once instead of once per case."""
    if user is None or not user.is_authenticated:
        return lambda case: False
    if user.has_role("operator", "dispatcher", "admin"):
        return lambda case: True
    unit_id = user.unit_id if user.has_role("handler") else None
    grid_ids = set(user.grids.values_list("id", flat=True)) if user.has_role("grid") else set()

    def rule(case):
        return (
            (case.reporter_id is not None and case.reporter_id == user.pk)
            or (unit_id is not None and case.unit_id == unit_id)
            or (case.grid_id is not None and case.grid_id in grid_ids)
        )

    return rule


def may_see_reporter(user, case):
    """Whether the user may see the reporter's name, phone and address unmasked: the
    reporter, street operators, dispatchers and administrators, a handler of the unit
    holding the case, and a grid worker of the case's grid."""
    if user is None or not user.is_authenticated:
        return False
    if case.reporter_id is not None and case.reporter_id == user.pk:
        return True
    if user.has_role("operator", "dispatcher", "admin"):
        return True
    if user.has_role("handler") and user.unit_id is not None and user.unit_id == case.unit_id:
        return True
    return bool(user.has_role("grid") and case.grid_id is not None and user.grids.filter(pk=case.grid_id).exists())


def summoned_cases(user, limit=50):
    """Open whistles on which the user's unit was summoned, with the case: the unit's 报到 list."""
    if user is None or not user.is_authenticated or not user.unit_id:
        return []
    return list(
        WhistleSummons.objects.filter(unit_id=user.unit_id, whistle__case__status__in=OPEN_STATUSES)
        .select_related("whistle", "whistle__case", "whistle__case__unit")
        .order_by("reported_at", "whistle__report_due", "id")[:limit]
    )


# --- 超期 and 临期, live: one rule for every figure -----------------------------------------
#
# A case is overdue (超期) or due soon (临期) by ``rules.urgency_at`` at the moment of reading:
# per case for the case page and the workbench, in SQL (``rules.overdue_q``,
# ``rules.urgency_expression``) for the lists and counts below. The ``urgency`` column that the
# deadline sweep stores is only as fresh as the last sweep: nothing counted or coloured reads it.


def overdue_cases(qs, *, now: dt.datetime):
    """The cases of ``qs`` overdue (超期) at ``now`` (``rules.overdue_q``)."""
    return qs.filter(overdue_q(now))


def with_live_urgency(qs, *, now: dt.datetime):
    """``qs`` with ``live_urgency``: green / yellow / red by the case page's rule at ``now``."""
    return qs.annotate(live_urgency=urgency_expression(now))


def cases_at_level(qs, level: str, *, now: dt.datetime):
    """The cases of ``qs`` at the deadline level ``level`` (green / yellow / red) at ``now``."""
    if level not in Urgency.values:
        raise ValidationFailed("urgency", _("时限状态“%(value)s”无效。") % {"value": level})
    if level == Urgency.RED:
        return overdue_cases(qs, now=now)
    return with_live_urgency(qs, now=now).filter(live_urgency=level)


@dataclass(frozen=True)
class Backlog:
    """A street's open cases and, of them, the overdue ones (超期, ``overdue_cases``), at a time."""

    open: int
    overdue: int


def street_backlog(street_id: int, *, now: dt.datetime) -> Backlog:
    """The open and the overdue cases of one street at ``now`` (the cockpit's live counters).

    ``overdue`` is the number of ``overdue_cases`` of the street, counted in parts so that
    PostgreSQL answers the bulk — the cases past their completion limit — from the partial index
    case_street_open alone, without visiting a case row (the index holds the street and the
    completion limit of the open cases, not their status or response limit):

    - the open cases past the completion limit (with the open cases, one index-only count);
    - less those of them that no unit is handling (待派单, 已退单, 待核查, 待回访);
    - plus those waiting for the response (待响应) past the response limit and not past the
      completion limit.

    The last two read the rows of a street's cases in those states (through case_street_status),
    few beside the cases being handled (bench/README.md, ``overdue.py``)."""
    cases = Case.objects.filter(street_id=street_id).order_by()
    late = Q(completion_due__lt=now)
    # Naming only columns of case_street_open (and its condition): the index alone answers.
    counted = cases.filter(status__in=OPEN_STATUSES).aggregate(n=Count("*"), late=Count("completion_due", filter=late))
    not_handled = [status for status in OPEN_STATUSES if status not in WORKING_STATUSES]
    parts = cases.filter(status__in=[*not_handled, Status.DISPATCHED]).aggregate(
        not_handled_late=Count("id", filter=late & Q(status__in=not_handled)),
        waiting_late=Count("id", filter=Q(status=Status.DISPATCHED, response_due__lt=now) & ~late),
    )
    return Backlog(open=counted["n"], overdue=counted["late"] - parts["not_handled_late"] + parts["waiting_late"])


def attention_cases(user, limit: int = 50, *, now: dt.datetime | None = None) -> list[Case]:
    """Open cases that are overdue (超期, the case page's rule at ``now``) or under supervision
    (督办), deadline first. Each carries ``supervision_due``: the reply deadline of the 督办
    waiting for the unit's reply (None when none waits) — past ``now``, the 督办 is overdue."""
    now = now or timezone.now()
    qs = visible_cases(user).filter(status__in=OPEN_STATUSES).filter(overdue_q(now) | Q(supervised=True))
    waiting = Supervision.objects.filter(case_id=OuterRef("pk"), replied_at__isnull=True).order_by("due")
    qs = qs.annotate(supervision_due=Subquery(waiting.values("due")[:1]))
    return list(qs.select_related(*LIST_FIELDS).order_by(F_nulls_last("completion_due"), "id")[:limit])


# --- 督办 (supervision) -------------------------------------------------------------


SUPERVISION_STATES = supervision_rules.STATES


def supervisions_of(case: Case, *, now: dt.datetime) -> list[dict]:
    """The case's 督办, oldest first, each ``{"item", "state", "label", "returns"}`` with its
    state at ``now`` (``supervision.STATES``): 待答复 (waiting), 已超期 (overdue: unanswered past
    the deadline), 待认可 (answered, no decision yet) or 已认可 (accepted); ``returns``: how
    many times its reply was returned (退回重答)."""
    rows = list(case.supervisions.select_related("issued_by", "replied_by", "unit").order_by("issued_at", "pk"))
    decided = supervision_rules.decisions([case.pk])
    return [_supervision_row(s, now, decided) for s in rows]


def _supervision_row(item: Supervision, now: dt.datetime, decided: dict) -> dict:
    found = decided.get(item.pk, supervision_rules.Decisions())
    state = supervision_rules.state_of(item, now=now, accepted=found.accepted)
    return {"item": item, "state": state, "label": SUPERVISION_STATES[state], "returns": found.returns}


def _visible_supervisions(user):
    return Supervision.objects.filter(case__in=visible_cases(user).values("pk"))


def supervision_list(
    user, *, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None, limit: int = 50
) -> list[dict]:
    """The 督办 for the leaders' list: those issued in ``[start, end)`` and any of an open case
    still waiting for a reply, unanswered first (the earliest deadline first), then the latest
    answers. Each row as ``supervisions_of``."""
    now = now or timezone.now()
    waiting = Q(replied_at__isnull=True, case__status__in=OPEN_STATUSES)
    rows = (
        _visible_supervisions(user)
        .filter(Q(issued_at__gte=start, issued_at__lt=end) | waiting)
        .select_related("case", "unit", "issued_by", "replied_by")
        .order_by(F("replied_at").desc(nulls_first=True), "due", "pk")[:limit]
    )
    rows = list(rows)
    decided = supervision_rules.decisions({s.case_id for s in rows})
    return [_supervision_row(s, now, decided) for s in rows]


@dataclass(frozen=True)
class SupervisionCounts:
    """督办 issued in a period and how they were answered, as at ``now``."""

    issued: int  # 督办 issued in the period
    on_time: int  # answered by the deadline
    late: int  # answered after the deadline
    overdue: int  # not answered, the deadline passed (已超期)
    waiting: int  # not answered, the deadline still ahead (待答复)


def supervision_counts(
    user, *, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> SupervisionCounts:
    """The figures of the 督办 issued in ``[start, end)`` on the cases the user may see: issued,
    answered on time, answered late, unanswered and overdue at ``now``, unanswered and waiting."""
    now = now or timezone.now()
    unanswered = Q(replied_at__isnull=True)
    figures = (
        _visible_supervisions(user)
        .filter(issued_at__gte=start, issued_at__lt=end)
        .aggregate(
            issued=Count("id"),
            on_time=Count("id", filter=Q(replied_at__isnull=False, replied_at__lte=F("due"))),
            late=Count("id", filter=Q(replied_at__isnull=False, replied_at__gt=F("due"))),
            overdue=Count("id", filter=unanswered & Q(due__lt=now)),
            waiting=Count("id", filter=unanswered & Q(due__gte=now)),
        )
    )
    return SupervisionCounts(**figures)


@dataclass
class UnitSupervision:
    """The 督办 one unit received in a period (督办 by unit), as at ``now``."""

    unit_id: int | None
    unit_name: str
    received: int = 0  # 督办 issued to the unit in the period
    on_time: int = 0  # replied (the reply standing now) by the deadline standing now
    late: int = 0  # replied after that deadline
    unanswered: int = 0  # no reply and the deadline passed (已超期)
    returned: int = 0  # its reply returned (退回重答) at least once
    accepted: int = 0  # its reply accepted (已认可)


def supervision_by_unit(
    user, *, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> list[UnitSupervision]:
    """Per unit, the 督办 issued to it in ``[start, end)`` on the cases the user may see:
    received, replied on time, replied late, unanswered past the deadline, returned at least
    once, accepted — most received first, then by unit name. A return clears the reply and
    sets a new deadline, so on time and late compare the reply standing now with the
    deadline standing now. 督办 of no unit are left out."""
    now = now or timezone.now()
    rows = list(
        _visible_supervisions(user)
        .filter(issued_at__gte=start, issued_at__lt=end, unit__isnull=False)
        .select_related("unit")
        .only("pk", "case_id", "unit", "unit__name", "due", "replied_at")
    )
    decided = supervision_rules.decisions({s.case_id for s in rows})
    units: dict[int | None, UnitSupervision] = {}
    for item in rows:
        unit = item.unit
        entry = units.setdefault(item.unit_id, UnitSupervision(item.unit_id, unit.name if unit else ""))
        found = decided.get(item.pk, supervision_rules.Decisions())
        entry.received += 1
        if item.replied_at is not None:
            if item.replied_at <= item.due:
                entry.on_time += 1
            else:
                entry.late += 1
        elif item.due < now:
            entry.unanswered += 1
        entry.returned += 1 if found.returns else 0
        entry.accepted += 1 if found.accepted else 0
    return sorted(units.values(), key=lambda row: (-row.received, row.unit_name))


# --- the unit's workbench ----------------------------------------------------------


@dataclass(frozen=True)
class UnitCounts:
    """The figures at the top of a unit's workbench (单位工作台), of the cases its unit holds.
    临期 and 超期 are the case page's badge: ``rules.urgency_at``, computed at ``now``."""

    dispatched: int  # 待响应: dispatched to the unit, not yet responded to
    in_progress: int  # 办理中: responded to, not yet resolved
    due_soon: int  # 临期: yellow, less than JIEDAO["YELLOW_SHARE"] of the time left
    overdue: int  # 超期: red, past the response limit (still unanswered) or the completion limit
    to_report: int  # 待报到: the unit's summonses (吹哨, 协办) not reported while the case is handled


def _owed(user, *, now: dt.datetime) -> list[tuple[int, str, str]]:
    """``(id, status, level)`` of each case the user's unit holds and still owes work on
    (待响应, 办理中), the level green / yellow / red by ``rules.urgency_at``. One query."""
    if user is None or not user.is_authenticated or not user.unit_id:
        return []
    # The rating that reopened a case restarts its clock: read with the case, not once per case.
    reopened = Rating.objects.filter(case_id=OuterRef("pk")).order_by("-rated_at").values("rated_at")[:1]
    cases = (
        visible_cases(user)
        .filter(unit_id=user.unit_id, status__in=WORKING_STATUSES)
        .only("id", "status", "dispatched_at", "response_due", "completion_due", "rework_count")
        .annotate(reopened_at=Subquery(reopened))
        .order_by()
    )
    return [(case.pk, case.status, urgency_at(case, now=now, reopened_at=case.reopened_at)) for case in cases]


def _waiting_summonses(user):
    """The unit's summonses not yet reported, on cases still being handled (报到 is possible)."""
    return WhistleSummons.objects.filter(
        unit_id=user.unit_id, reported_at__isnull=True, whistle__case__status__in=WORKING_STATUSES
    )


def unit_counts(user, *, now: dt.datetime | None = None) -> UnitCounts:
    """待响应, 办理中, 临期, 超期 and 待报到 of the user's unit (all zero without a unit)."""
    now = now or timezone.now()
    owed = _owed(user, now=now)
    has_unit = user is not None and user.is_authenticated and bool(user.unit_id)
    return UnitCounts(
        dispatched=sum(1 for _pk, status, _level in owed if status == Status.DISPATCHED),
        in_progress=sum(1 for _pk, status, _level in owed if status == Status.IN_PROGRESS),
        due_soon=sum(1 for _pk, _status, level in owed if level == Urgency.YELLOW),
        overdue=sum(1 for _pk, _status, level in owed if level == Urgency.RED),
        to_report=_waiting_summonses(user).count() if has_unit else 0,
    )


def unit_cases(
    user,
    *,
    status: str | None = None,
    level: str | None = None,
    category: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 30,
    now: dt.datetime | None = None,
) -> tuple[list[Case], str | None]:
    """A page of the cases the user's unit holds (open ones unless ``status`` says otherwise),
    earliest completion limit first: ``(cases, next_cursor)``. ``level`` (green / yellow / red)
    is the deadline rule of the case page at ``now`` (``rules.urgency_at``), as ``unit_counts``
    counts it, not the level the last deadline sweep stored."""
    if user is None or not user.is_authenticated or not user.unit_id:
        return [], None
    qs = _listed(user, status=status or "open", unit=None, category=category, q=q).filter(unit_id=user.unit_id)
    if level:
        if level not in Urgency.values:
            raise ValidationFailed("urgency", _("时限状态“%(value)s”无效。") % {"value": level})
        owed = _owed(user, now=now or timezone.now())
        if level == Urgency.GREEN:
            qs = qs.exclude(pk__in=[pk for pk, _status, found in owed if found != Urgency.GREEN])
        else:
            qs = qs.filter(pk__in=[pk for pk, _status, found in owed if found == level])
    return _page(user, qs, q=q, cursor=cursor, limit=limit, order="due")


@dataclass(frozen=True)
class UnitWhistles:
    """The unit's part in whistles and co-handling tasks (吹哨报到, 协办) on open cases."""

    waiting: list  # WhistleSummons to report to, the earliest report limit first
    finished: list  # the others (reported, or the case no longer handled), the latest whistle first
    finished_count: int  # all of the others (``finished`` holds at most ``limit``)


def unit_whistles(user, *, limit: int = 50) -> UnitWhistles:
    """待报到 summonses of the user's unit, and the finished ones (at most ``limit``, with their count)."""
    if user is None or not user.is_authenticated or not user.unit_id:
        return UnitWhistles([], [], 0)
    related = ("whistle", "whistle__case", "whistle__case__unit")
    waiting = list(_waiting_summonses(user).select_related(*related).order_by("whistle__report_due", "id")[:100])
    finished = (
        WhistleSummons.objects.filter(unit_id=user.unit_id, whistle__case__status__in=OPEN_STATUSES)
        .exclude(reported_at__isnull=True, whistle__case__status__in=WORKING_STATUSES)
        .select_related(*related)
    )
    return UnitWhistles(
        waiting=waiting,
        finished=list(finished.order_by("-whistle__blown_at", "-id")[:limit]),
        finished_count=finished.count(),
    )


def open_case_count() -> int:
    """Cases of the whole installation not yet closed or merged (a figure of /metrics)."""
    return Case.objects.filter(status__in=OPEN_STATUSES).count()


def overdue_case_count(now: dt.datetime | None = None) -> int:
    """Cases of the whole installation overdue (超期) now, by the case page's rule (/metrics)."""
    return overdue_cases(Case.objects.all(), now=now or timezone.now()).count()


# --- categories and routing rules, cached per process ------------------------
#
# Every intake reads its category (with the levels above it), the grid and community
# where it happened and, when it is dispatched at once, the routing rules and the
# street's default unit. They change only when an administrator edits them, so each
# process keeps them in memory, as the working calendar does:
#
# - the process that saves or deletes a Category, RoutingRule, Unit, Street,
#   Community or Grid forgets them at once and again after the commit
#   (``cases.signals``, connected in ``CasesConfig.ready``);
# - every other process (other web workers, the task worker) reads them again once
#   they are older than ``ROUTING_TTL`` seconds.
#
# So an edit reaches every process within ROUTING_TTL seconds. The instances are
# shared by every request of the process: read them, never change them.

ROUTING_TTL = 10.0
_clock = time.monotonic
_routing: dict[str, "RoutingData"] = {}
_routing_generation = [0]


@dataclass(frozen=True)
class RoutingData:
    loaded_at: float
    generation: int
    categories: dict  # code -> Category, each with its parent chain in memory
    categories_by_id: dict  # id -> the same Category
    parents: frozenset  # ids of categories that have children
    rules: tuple  # active rules of active units, by priority, with their unit
    streets: tuple  # (street, ids of its communities) for streets with a default unit, by id
    grids: dict  # id -> Grid with its community (boundary not loaded: geo.locate has the shapes)


def _load_routing(now, generation):
    nodes = list(Category.objects.all())
    by_id = {node.pk: node for node in nodes}
    for node in nodes:
        if node.parent_id is not None:
            node.parent = by_id[node.parent_id]
    rules = tuple(
        RoutingRule.objects.filter(active=True, unit__active=True).select_related("unit").order_by("priority", "id")
    )
    communities = {}
    for community_id, street_id in Community.objects.values_list("id", "street_id"):
        communities.setdefault(street_id, set()).add(community_id)
    streets = tuple(
        (street, frozenset(communities.get(street.pk, ())))
        for street in Street.objects.exclude(default_unit=None).select_related("default_unit").order_by("pk")
    )
    return RoutingData(
        loaded_at=now,
        generation=generation,
        categories={node.code: node for node in nodes},
        categories_by_id=by_id,
        parents=frozenset(node.parent_id for node in nodes if node.parent_id is not None),
        rules=rules,
        streets=streets,
        grids={grid.pk: grid for grid in Grid.objects.select_related("community").defer("boundary")},
    )


def routing_data() -> RoutingData:
    now = _clock()
    data = _routing.get("data")
    if data is None or now - data.loaded_at >= ROUTING_TTL or data.generation != _routing_generation[0]:
        data = _load_routing(now, _routing_generation[0])
        _routing["data"] = data
    return data


def forget_routing(**kwargs):
    """Drop the cached categories and rules (after saves and deletes, see ``cases.signals``)."""
    _routing_generation[0] += 1
    _routing.clear()


def active_category(code):
    """``(category, has_children)`` for an active category code, or ``(None, False)``."""
    data = routing_data()
    category = data.categories.get(code)
    if category is None or not category.active:
        return None, False
    return category, category.pk in data.parents


def routing_rules():
    """The active routing rules of active units, first by priority, with their unit."""
    return routing_data().rules


def street_default_unit(community_id=None, street_id=None):
    """The default unit of the case's street (``street_id``, else the street of
    ``community_id``, else the first street that has one), or None."""
    for street, communities in routing_data().streets:
        if street_id is not None:
            if street.pk == street_id:
                return street.default_unit
        elif community_id is None or community_id in communities:
            return street.default_unit
    return None


def intake_street_id(user, community):
    """The street a new case belongs to: its community's, else the street of the staff
    member taking it in, else the installation's only street (None when it cannot be told)."""
    if community is not None:
        return community.street_id
    if user is not None and user.is_authenticated and user.street_id and not user.has_role("resident"):
        return user.street_id
    streets = {street.pk for street, _communities in routing_data().streets}
    if len(streets) == 1:
        return next(iter(streets))
    if not streets:
        return Street.objects.order_by("pk").values_list("pk", flat=True).first()
    return None


def grid_at(lat, lng):
    """The grid (with its community) whose boundary contains the point, or None."""
    grid_id = grid_id_at(lat, lng)
    if grid_id is None:
        return None
    grid = routing_data().grids.get(grid_id)
    if grid is None:  # a grid drawn in another process since the cache was read
        grid = Grid.objects.select_related("community").defer("boundary").get(pk=grid_id)
    return grid


# --- the operator's desk (话务台): caller look-up, case search, callbacks ------------------------

DESK_LIMIT = 50
# An address is stored encrypted: searching it decrypts the newest cases of the range, at most this many.
ADDRESS_SCAN = 5000


def caller_history(user, *, phone: str, limit: int = 10) -> list[Case]:
    """The caller's earlier cases the user may see, newest first, found by the phone number as
    typed (+86 and spaces allowed); nothing until the number is a whole mainland mobile or
    landline number."""
    digits = normalise_phone(phone)
    if not (MOBILE.match(digits) or LANDLINE.match(digits)):
        return []
    qs = visible_cases(user).filter(reporter_phone_index=blind_index(digits)).select_related(*LIST_FIELDS)
    return list(qs.order_by("-created_at", "-id")[:limit])


@dataclass
class DeskSearch:
    """The cases a desk search found, and whether the address scan stopped at its limit."""

    cases: list
    address_cut: bool = False


def desk_search(
    user,
    *,
    number: str = "",
    phone: str = "",
    words: str = "",
    address: str = "",
    start=None,
    end=None,
    limit: int = DESK_LIMIT,
) -> DeskSearch:
    """A case search for the desk: by number (or part of it), the caller's phone, words of the
    request, the address, and the day it was received (Beijing dates, both ends included), every
    given condition applying; newest first."""
    qs = visible_cases(user).select_related(*LIST_FIELDS)
    number = params.search_text(number, "number").upper()
    if number:
        qs = qs.filter(number__icontains=number)
    if (phone or "").strip():
        digits = normalise_phone(phone)
        if not (MOBILE.match(digits) or LANDLINE.match(digits)):
            raise ValidationFailed("phone", _("请填写完整的手机号或固定电话号码。"))
        qs = qs.filter(reporter_phone_index=blind_index(digits))
    words = params.search_text(words, "words")
    if words:
        qs = qs.filter(description__icontains=words)
    if start or end:
        first = params.parse_date(start, "start") if start else None
        last = params.parse_date(end, "end") if end else None
        if first and last and last < first:
            raise ValidationFailed("end", _("结束日期不能早于开始日期。"))
        if first:
            qs = qs.filter(created_at__gte=start_of_day(first))
        if last:
            qs = qs.filter(created_at__lt=start_of_day(last + dt.timedelta(days=1)))
    qs = qs.order_by("-created_at", "-id")
    address = params.search_text(address, "address")
    if not address:
        return DeskSearch(list(qs[:limit]))
    rows = list(qs.exclude(address="")[: ADDRESS_SCAN + 1])
    found = [case for case in rows[:ADDRESS_SCAN] if address in case.address]
    return DeskSearch(found[:limit], address_cut=len(rows) > ADDRESS_SCAN)


@dataclass
class Callback:
    """A case waiting for its callback (回访): the unit's reply and the attempts that did not
    reach the resident since that reply."""

    case: Case
    reply: str
    replied_at: dt.datetime | None
    attempts: int = 0
    last_attempt: dt.datetime | None = None
    retry_at: dt.datetime | None = None
    unreachable: bool = False

    @property
    def due(self) -> bool:
        return not self.unreachable and self.retry_at is None


def callback_queue(user, *, now: dt.datetime | None = None) -> list[Callback]:
    """The callbacks waiting for the desk: first those to call now (oldest reply first), then
    those to try again later (their retry time), then those not reached after
    ``CALLBACK_ATTEMPTS`` tries (the dispatcher may close them)."""
    now = now or timezone.now()
    retry = dt.timedelta(hours=cast(float, settings.JIEDAO["CALLBACK_RETRY_HOURS"]))
    attempts_allowed = cast(int, settings.JIEDAO["CALLBACK_ATTEMPTS"])
    cases = list(
        visible_cases(user).filter(status=Status.RATING).select_related(*LIST_FIELDS).order_by("resolved_at", "id")
    )
    log: dict[int, Callback] = {case.pk: Callback(case, reply="", replied_at=None) for case in cases}
    events = CaseEvent.objects.filter(case_id__in=list(log), action__in=("resolve", "unreached")).order_by("seq")
    for case_id, action, note, at in events.values_list("case_id", "action", "note", "at"):
        item = log[case_id]
        if action == "resolve":
            item.reply, item.replied_at, item.attempts, item.last_attempt = note, at, 0, None
        else:
            item.attempts, item.last_attempt = item.attempts + 1, at
    for item in log.values():
        item.unreachable = item.attempts >= attempts_allowed
        if item.last_attempt is not None and not item.unreachable and item.last_attempt + retry > now:
            item.retry_at = item.last_attempt + retry
    items = list(log.values())
    due = [i for i in items if i.due]
    later = sorted((i for i in items if i.retry_at is not None), key=lambda i: i.retry_at or now)
    return due + later + [i for i in items if i.unreachable]


# --- the dispatcher's queue (派单台) -----------------------------------------------------------

# The queue's tabs and the cases each holds: classified and waiting, not classified yet, returned.
QUEUE_TABS = {
    "new": Q(status=Status.NEW, category__isnull=False),
    "unclassified": Q(status=Status.NEW, category__isnull=True),
    "returned": Q(status=Status.RETURNED),
}
# 等待时长: how long a case has waited in the queue — since it came in, or since it was last returned.
QUEUE_WAITS = {"2h": dt.timedelta(hours=2), "24h": dt.timedelta(hours=24)}
# The orders of a tab: 最早受理, 最新受理, 最久等待, 退单次数 (most returns first).
QUEUE_SORTS = {
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "waiting": ("waiting_since", "id"),
    "returns": ("-return_count", "waiting_since", "id"),
}
QUEUE_PAGE = 20


@dataclass
class Refusal:
    """A return (退单): the unit that gave the case back, its reason and when."""

    unit: object
    reason: str
    at: dt.datetime


@dataclass
class QueueItem:
    """A case of the queue, with when it began to wait and its returns (the latest first)."""

    case: Case
    waiting_since: dt.datetime
    refusals: list[Refusal]

    @property
    def last_return(self) -> Refusal | None:
        return self.refusals[0] if self.refusals else None

    @property
    def refused_unit_ids(self) -> list[int]:
        """The units that returned the case, the latest first (``dispatching.next_route``)."""
        return list(dict.fromkeys(r.unit.pk for r in self.refusals if r.unit is not None))  # type: ignore[attr-defined]


@dataclass
class DispatchQueue:
    """One page of a tab of the queue, and the count of every tab under the same filters."""

    tab: str
    counts: dict[str, int]
    items: list[QueueItem]
    page: int
    pages: int

    @property
    def total(self) -> int:
        return self.counts[self.tab]


def queue_communities(user) -> list[Community]:
    """The communities whose cases the user's queue may hold (the filter's choices)."""
    return list(street_records(user, Community.objects.order_by("code")))


def dispatch_queue(
    user,
    *,
    tab: str = "",
    channel: str = "",
    community: str = "",
    category: str = "",
    waited: str = "",
    sort: str = "oldest",
    page: int = 1,
    page_size: int = QUEUE_PAGE,
    now: dt.datetime | None = None,
) -> DispatchQueue:
    """The dispatcher's queue: the cases waiting for a category or a unit, by tab (``QUEUE_TABS``;
    none given: the first that holds cases), filtered by channel, community (code), top-level
    category (code) and time waited (``QUEUE_WAITS``), in one of ``QUEUE_SORTS``, a page at a time;
    every tab's count under the same filters, in one query. Each case of the page comes with its
    returns (the unit, the reason, the time)."""
    now = now or timezone.now()
    errors = []
    if tab and tab not in QUEUE_TABS:
        errors.append(("tab", _("队列“%(value)s”无效。") % {"value": tab[:20]}))
    if waited and waited not in QUEUE_WAITS:
        errors.append(("waited", _("等待时长“%(value)s”无效。") % {"value": waited[:20]}))
    if sort not in QUEUE_SORTS:
        errors.append(("sort", _("排序方式“%(value)s”无效。") % {"value": sort[:20]}))
    if errors:
        raise ValidationFailed(errors=[{"field": field, "message": message} for field, message in errors])
    last_return = CaseEvent.objects.filter(case=OuterRef("pk"), action="return").order_by("-seq").values("at")[:1]
    qs = (
        visible_cases(user)
        .filter(status__in=(Status.NEW, Status.RETURNED))
        .annotate(waiting_since=Coalesce(Subquery(last_return), F("created_at")))
    )
    if channel:
        qs = qs.filter(channel=channel)
    if community:
        qs = qs.filter(community__code=community)
    if category:
        qs = qs.filter(
            Q(category__code=category) | Q(category__parent__code=category) | Q(category__parent__parent__code=category)
        )
    if waited:
        qs = qs.filter(waiting_since__lte=now - QUEUE_WAITS[waited])
    counts = qs.aggregate(**{key: Count("pk", filter=holds) for key, holds in QUEUE_TABS.items()})
    if not tab:
        tab = next((key for key in QUEUE_TABS if counts[key]), "new")
    page_size = max(1, page_size)
    pages = max(1, -(-counts[tab] // page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    cases = list(
        qs.filter(QUEUE_TABS[tab]).select_related(*LIST_FIELDS).order_by(*QUEUE_SORTS[sort])[start : start + page_size]
    )
    refusals: dict[int, list[Refusal]] = {}
    returns = (
        CaseEvent.objects.filter(case_id__in=[c.pk for c in cases], action="return")
        .select_related("actor_unit")
        .order_by("-seq")
    )
    for event in returns:
        refusals.setdefault(event.case_id, []).append(Refusal(event.actor_unit, event.note, event.at))
    items = [QueueItem(c, c.waiting_since, refusals.get(c.pk, [])) for c in cases]
    return DispatchQueue(tab=tab, counts=counts, items=items, page=page, pages=pages)
