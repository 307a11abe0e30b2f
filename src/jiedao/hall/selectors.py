"""Reads of the service hall: the catalogue, applications a user may see (applicant
data masked), the queue, and the measures of 一窗受理 and 好差评."""

import datetime as dt
import math

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import params
from jiedao.common import search as search_engine
from jiedao.common.errors import NotFound
from jiedao.common.masking import mask_id_number, mask_name, mask_phone
from jiedao.common.selectors import vocabulary
from jiedao.org.selectors import street_records
from jiedao.workcal.calendar import SHANGHAI

from . import links, rules
from .models import (
    Appeal,
    Application,
    ApplicationMaterial,
    Appointment,
    Bundle,
    Channel,
    Delivery,
    Level,
    MaterialStatus,
    Rating,
    Rectification,
    ServiceItem,
    Status,
    Ticket,
    TicketStatus,
)
from .rules import booking_workdays, slot_capacity, slots_of
from .states import APPLICATIONS

# Targets of the reform documents.
TARGETS = {"one_visit": 0.95, "on_the_spot": 0.85, "online": 0.85, "satisfaction": 0.90, "wait_minutes": 15}


def search_items(q: str = "") -> list[ServiceItem]:
    """The catalogue's items in force, or those matching words as people say them (低保 finds
    最低生活保障申请), best first: the product's one search with the search vocabulary, over
    names and codes first, then the people served and the conditions."""
    qs = ServiceItem.objects.filter(active=True).select_related("unit").annotate(material_count=Count("materials"))
    items: list[ServiceItem] = list(qs.order_by("group", "code"))
    query = search_engine.parse(params.search_text(q), vocabulary())
    if query.empty:
        return items
    docs = [
        search_engine.doc(
            item.code,
            [
                (item.name, 1.0),
                (item.code, 1.0),
                (item.basic_code, 1.0),
                (item.target_group, 0.5),
                (item.conditions, 0.4),
            ],
            item,
        )
        for item in items
    ]
    return [d.payload for _score, d in search_engine.rank(query, docs)]


def item_by_code(code):
    item = (
        ServiceItem.objects.select_related("unit").prefetch_related("materials").filter(code=code, active=True).first()
    )
    if item is None:
        raise NotFound(_("事项不存在。"))
    return item


def bundles():
    return list(Bundle.objects.prefetch_related("items__materials"))


def bundle_by_code(code):
    bundle = Bundle.objects.prefetch_related("items__materials", "items__unit").filter(code=code).first()
    if bundle is None:
        raise NotFound(_("一件事不存在。"))
    return bundle


# --- applications ---------------------------------------------------------------------


def visible_applications(user):
    qs = Application.objects.select_related("item", "unit", "bundle")
    if not user.is_authenticated:
        return qs.none()
    if user.has_role("operator", "leader", "admin"):
        return street_records(user, qs, "unit__street")
    q = Q(applicant_user=user)
    if user.has_role("handler") and user.unit_id:
        q |= Q(unit_id=user.unit_id)
    return qs.filter(q)


def application_for(user, number, token=None):
    """The application ``number`` as ``user`` may see it, or through a valid rating link
    ``token``; a genuine but expired link raises ``links.LinkExpired`` (410)."""
    app = Application.objects.select_related("item", "unit", "bundle", "parent", "rating").filter(number=number).first()
    if app is None or not (visible_applications(user).filter(pk=app.pk).exists() or links.token_matches(app, token)):
        if app is not None and links.token_expired(app, token):
            raise links.LinkExpired()
        raise NotFound(_("办件不存在。"))
    return app


def approval_queue(user):
    """后台分类审批: what waits for the user's unit (every unit for leaders)."""
    qs = Application.objects.select_related("item", "unit").filter(status=Status.ACCEPTED, item__isnull=False)
    if not user.has_role("leader", "admin"):
        qs = qs.filter(unit_id=user.unit_id) if user.unit_id else qs.none()
    return list(qs.order_by("due_at"))


def window_lists(now=None):
    """What the window has to do: online applications to accept, results to issue."""
    return {
        "submitted": list(
            Application.objects.select_related("item").filter(status=Status.SUBMITTED).order_by("submitted_at")[:50]
        ),
        "approved": list(
            Application.objects.select_related("item").filter(status=Status.APPROVED).order_by("decided_at")[:50]
        ),
    }


def application_out(app, now=None):
    """The application as shown to anyone: the applicant's identity is masked."""
    now = now or timezone.now()
    return {
        "number": app.number,
        "title": app.title,
        "item_code": app.item.code if app.item_id else None,
        "bundle_code": app.bundle.code if app.bundle_id else None,
        "status": app.status,
        "status_label": app.get_status_display(),
        "channel": app.channel,
        "mode": app.mode,
        "mode_label": app.get_mode_display(),
        "unit": app.unit.name if app.unit_id else None,
        "anonymised": app.anonymised_at is not None,
        "applicant_name": mask_name(app.applicant_name),
        "applicant_id": mask_id_number(app.applicant_id),
        "applicant_phone": mask_phone(app.applicant_phone),
        "assisted": app.assisted,
        "assistant_name": mask_name(app.assistant_name),
        "submitted_at": app.submitted_at,
        "accepted_at": app.accepted_at,
        "due_at": app.due_at,
        "statutory_due_at": app.statutory_due_at,
        "issued_at": app.issued_at,
        "visits": app.visits,
        "overdue": bool(
            app.due_at and app.status not in (Status.ISSUED, Status.REJECTED, Status.REFUSED) and now > app.due_at
        ),
        "materials": [material_out(m, now) for m in app.materials.select_related("material")],
        "children": [
            {
                "number": c.number,
                "title": c.title,
                "status": c.status,
                "status_label": c.get_status_display(),
                "unit": c.unit.name if c.unit_id else None,
            }
            for c in app.children.select_related("item", "unit")
        ],
    }


def material_out(row, now=None):
    now = now or timezone.now()
    return {
        "id": row.material_id,
        "name": row.material.name,
        "core": row.material.core,
        "status": row.status,
        "status_label": row.get_status_display(),
        "source": row.source,
        "due_at": row.due_at,
        "overdue": bool(row.status == MaterialStatus.MISSING and row.due_at and now > row.due_at),
    }


def events_of(app):
    return [
        {
            "at": e.at,
            "action": e.action,
            "label": APPLICATIONS.label(e.action),
            "actor": str(e.actor or ""),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.note,
        }
        for e in app.events.select_related("actor")
    ]


def actions_for(user, app, token=None):
    """The steps of the application's lifecycle ``user`` may take now (a rating link ``token``
    proves the applicant); rating only once."""
    proof = rules.proof(app, token)
    return [
        t
        for t in APPLICATIONS.available(app.status)
        if APPLICATIONS.may(user, app, t, proof) and not (t.action == "rate" and hasattr(app, "rating"))
    ]


def rectifications_for(user):
    qs = Rectification.objects.select_related("rating__application__item", "unit").prefetch_related("rating")
    if not user.has_role("operator", "leader", "admin"):
        qs = qs.filter(unit_id=user.unit_id) if user.unit_id else qs.none()
    return list(qs.order_by("state", "due_at")[:200])


def pending_appeals():
    return list(
        Appeal.objects.filter(decision=Appeal.Decision.PENDING).select_related("rating__application__item", "filed_by")
    )


# --- the queue ----------------------------------------------------------------------------


def screen(now=None, called=8):
    """The calling screen: the last called numbers, and how many wait per group."""
    now = now or timezone.now()
    day = now.astimezone(SHANGHAI).date()
    today = Ticket.objects.filter(day=day)
    return {
        "called": list(today.filter(status=TicketStatus.CALLED).order_by("-called_at")[:called]),
        "waiting": today.filter(status=TicketStatus.WAITING).count(),
    }


def current_ticket(user, now=None):
    now = now or timezone.now()
    return (
        Ticket.objects.filter(clerk=user, status=TicketStatus.CALLED, day=now.astimezone(SHANGHAI).date())
        .order_by("-called_at")
        .first()
    )


# --- measures -------------------------------------------------------------------------------


def _share(part, whole):
    return None if not whole else part / whole


def percentile(values, share):
    """Nearest-rank percentile (the smallest value with at least ``share`` of values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def measures(start=None, end=None):
    """The hall's measures over applications issued (and tickets taken) in [start, end).

    - 最多跑一次率: issued applications that took at most one visit.
    - 当场办结率: issued applications completed on the spot.
    - waiting: minutes from taking a ticket to being called (average and 90th percentile).
    - handling: working-day limit kept (issued by the promised deadline).
    - online share: applications submitted online.
    - 免提交 share: materials satisfied from shared data, of all materials asked.
    - satisfaction: ratings 基本满意 or better, ratings excluded by an upheld appeal left out.
    - rectification on time: bad ratings fixed by their deadline.
    """
    end = end or timezone.now()
    start = start or end - dt.timedelta(days=365)
    top = Application.objects.filter(parent__isnull=True)
    issued = top.filter(status=Status.ISSUED, issued_at__gte=start, issued_at__lt=end)
    n_issued = issued.count()
    one_visit = issued.filter(visits__lte=1).count()
    on_the_spot = issued.filter(delivery=Delivery.ON_THE_SPOT).count()
    with_limit = Application.objects.filter(
        status=Status.ISSUED, issued_at__gte=start, issued_at__lt=end, item__isnull=False, due_at__isnull=False
    )
    in_time = sum(1 for a, d in with_limit.values_list("issued_at", "due_at") if a <= d)
    submitted = top.filter(submitted_at__gte=start, submitted_at__lt=end)
    n_submitted = submitted.count()
    online = submitted.filter(channel=Channel.ONLINE).count()
    materials = ApplicationMaterial.objects.filter(
        application__submitted_at__gte=start, application__submitted_at__lt=end
    )
    n_materials = materials.count()
    shared = materials.filter(status=MaterialStatus.SHARED).count()
    items_applied = materials.values("application").distinct().count()
    asked = materials.exclude(status=MaterialStatus.SHARED).count()
    tickets = Ticket.objects.filter(taken_at__gte=start, taken_at__lt=end, called_at__isnull=False)
    waits = [(c - t).total_seconds() / 60 for t, c in tickets.values_list("taken_at", "called_at")]
    services_ = [
        (f - c).total_seconds() / 60
        for c, f in tickets.filter(finished_at__isnull=False).values_list("called_at", "finished_at")
    ]
    ratings = Rating.objects.filter(at__gte=start, at__lt=end)
    counted = ratings.filter(excluded=False)
    n_ratings = counted.count()
    good = counted.filter(level__gte=Level.FAIRLY_SATISFIED).count()
    by_level = {level: counted.filter(level=level).count() for level in Level.values}
    rects = Rectification.objects.filter(rating__at__gte=start, rating__at__lt=end)
    due = [r for r in rects if r.due_at <= end or r.fixed_at is not None]
    fixed_on_time = sum(1 for r in due if r.on_time)
    return {
        "start": start,
        "end": end,
        "issued": n_issued,
        "one_visit": _share(one_visit, n_issued),
        "on_the_spot": _share(on_the_spot, n_issued),
        "in_time": _share(in_time, len(with_limit)),
        "submitted": n_submitted,
        "online": _share(online, n_submitted),
        "materials": n_materials,
        "shared": _share(shared, n_materials),
        "materials_per_item": (asked / items_applied) if items_applied else None,
        "tickets": len(waits),
        "wait_avg": (sum(waits) / len(waits)) if waits else None,
        "wait_p90": percentile(waits, 0.9),
        "service_avg": (sum(services_) / len(services_)) if services_ else None,
        "ratings": n_ratings,
        "satisfaction": _share(good, n_ratings),
        "by_level": by_level,
        "bad": by_level[Level.DISSATISFIED] + by_level[Level.VERY_DISSATISFIED],
        "rectifications": len(due),
        "rectified_on_time": _share(fixed_on_time, len(due)),
        "excluded": ratings.filter(excluded=True).count(),
    }


def free_slots(now=None, workdays=5):
    """Slots of the next working days with room left: [(start, places left)]."""
    now = now or timezone.now()
    day = now.astimezone(SHANGHAI).date()
    workdays = min(workdays, booking_workdays())  # never a slot that cannot be booked
    slots, seen = [], 0
    while seen < workdays:
        day += dt.timedelta(days=1)
        todays = slots_of(day)
        if todays:
            seen += 1
            slots.extend(todays)
    booked = dict(
        Appointment.objects.filter(starts_at__in=slots, state=Appointment.State.BOOKED)
        .values("starts_at")
        .annotate(n=Count("id"))
        .values_list("starts_at", "n")
    )
    capacity = slot_capacity()
    return [(s, capacity - booked.get(s, 0)) for s in slots if capacity - booked.get(s, 0) > 0]


def appointments_of(user):
    return list(Appointment.objects.filter(user=user).select_related("item").order_by("-starts_at")[:50])
