"""Reads of cases. Every selector takes the user and returns only what that user may see."""

import hmac
import time
from dataclasses import dataclass

from django.db.models import F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common.crypto import blind_index
from jiedao.common.errors import NotFound, ValidationFailed
from jiedao.common.masking import mask_name, mask_personal_text
from jiedao.common.params import AwareDatetime, Cursor, RowId
from jiedao.geo.locate import grid_id_at
from jiedao.org.models import Community, Grid, Street
from jiedao.org.selectors import in_streets
from jiedao.workcal.calendar import SHANGHAI, start_of_day

from .models import (
    OPEN_STATUSES,
    WORKING_STATUSES,
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    Extension,
    RoutingRule,
    Status,
    WhistleSummons,
)
from .states import CASE
from .validation import normalise_phone


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
        .exclude(status=Status.MERGED)
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
    in table order: the rows the services would let through, as the lifecycle decides."""
    return [t for t in CASE.available(case.status) if CASE.may(user, case, t)]


# --- lists with keyset pagination ---------------------------------------------

# [created_at, id] for the newest-first list, [completion_due or null, id] for the deadline list.
_CREATED_CURSOR = Cursor(AwareDatetime, RowId)
_DUE_CURSOR = Cursor(AwareDatetime | None, RowId)


LIST_FIELDS = ("category", "unit", "grid", "community")


def case_list(
    user, *, status=None, unit=None, category=None, urgency=None, q=None, cursor=None, limit=50, order="created"
):
    """A page of cases the user may see, newest first (``order='created'``) or by
    deadline (``order='due'``). Returns ``(cases, next_cursor)``; a fixed number of queries."""
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
    if urgency:
        qs = qs.filter(urgency=urgency)
    if q:
        q = params.search_text(q)
        qs = qs.filter(Q(number__icontains=q) | Q(description__icontains=q))
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


def attention_cases(user, limit=50):
    """Open cases that are overdue (red) or under supervision (督办), deadline first."""
    qs = visible_cases(user).filter(status__in=OPEN_STATUSES).filter(Q(urgency="red") | Q(supervised=True))
    return list(qs.select_related(*LIST_FIELDS).order_by(F_nulls_last("completion_due"), "id")[:limit])


def open_case_count() -> int:
    """Cases of the whole installation not yet closed or merged (a figure of /metrics)."""
    return Case.objects.filter(status__in=OPEN_STATUSES).count()


def overdue_case_count(now=None) -> int:
    """Cases of the whole installation with the unit past their completion limit (/metrics)."""
    return Case.objects.filter(status__in=WORKING_STATUSES, completion_due__lt=now or timezone.now()).count()


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
