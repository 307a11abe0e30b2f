"""Reads for the open interfaces: services, public requests and their updates, the
case export and the webhook history. Open311 reads are public: they carry only
public fields, never the reporter's name, phone or e-mail, and the address masked."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.cases import states
from jiedao.cases.models import Case, CaseEvent, Category, Rating
from jiedao.common.masking import mask_address, mask_personal_text
from jiedao.messaging.models import OutboxMessage
from jiedao.org.models import Street

from . import statuses
from .formats import Open311Error
from .models import ApiKey, Delivery, Open311Request, ServiceAttribute, Upstream, Webhook

# GeoReport v2: without dates the list covers the last 90 days; at most 1000 ids are looked up
# at once. The standard has no paging: lists come in pages with the common extension
# parameters ``page`` (from 1) and ``page_size`` (PAGE_SIZE unless asked, at most MAX_PAGE_SIZE).
WINDOW = dt.timedelta(days=90)
MAX_REQUESTS = 1000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def public_text(text: str | None) -> str:
    """Free text as it may be published: phones and identity numbers masked, however they
    were written (``common.masking.mask_personal_text``)."""
    return mask_personal_text(text or "")


# --- jurisdictions and keys ------------------------------------------------------------


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    """One installation is one jurisdiction; the codes of its streets (and their
    districts) are accepted as ``jurisdiction_id``."""
    if jurisdiction_id is None:
        return
    known = Street.objects.filter(Q(code=jurisdiction_id) | Q(district__code=jurisdiction_id)).exists()
    if not known:
        raise Open311Error(404, _("jurisdiction_id“%(value)s”不存在。") % {"value": jurisdiction_id})


def hash_key(plain: str) -> str:
    """How an API key is stored: its SHA-256, never the key itself."""
    return hashlib.sha256(plain.strip().encode("utf-8")).hexdigest()


def key_for(plain: str | None) -> ApiKey | None:
    """The active key whose hash matches, or None."""
    if not plain:
        return None
    return ApiKey.objects.select_related("user").filter(key_hash=hash_key(plain), active=True).first()


# --- services ---------------------------------------------------------------------------


def _categories():
    return {c.pk: c for c in Category.objects.all()}


def _top(category, by_id):
    node = category
    while node.parent_id is not None and node.parent_id in by_id:
        node = by_id[node.parent_id]
    return node


def _path(category, by_id):
    names, node = [category.name], category
    while node.parent_id is not None and node.parent_id in by_id:
        node = by_id[node.parent_id]
        names.append(node.name)
    return list(reversed(names))


def service_categories() -> tuple[list[Category], dict[int, Category]]:
    """The active leaf categories, in code order: each is one Open311 service."""
    by_id = _categories()
    parents = {c.parent_id for c in by_id.values() if c.parent_id is not None and c.active}
    leaves = [c for c in by_id.values() if c.active and c.pk not in parents]
    return sorted(leaves, key=lambda c: c.code), by_id


def _service_description(category):
    return _("%(path)s。响应时限 %(hours)s 小时，办结时限 %(days)d 个工作日。") % {
        "path": category.path_name,
        "hours": f"{category.response_hours:g}",
        "days": category.completion_workdays,
    }


def services() -> list[dict[str, Any]]:
    leaves, by_id = service_categories()
    with_attributes = set(ServiceAttribute.objects.values_list("category_id", flat=True).distinct())
    rows = []
    for category in leaves:
        rows.append(
            {
                "service_code": category.code,
                "service_name": category.name,
                "description": _service_description(category),
                "metadata": category.pk in with_attributes,
                "type": "realtime",
                "keywords": ", ".join(_path(category, by_id)),
                "group": _top(category, by_id).name,
            }
        )
    return rows


def service(code: str) -> Category:
    """The active leaf category with this code, or 404."""
    category = Category.objects.filter(code=code, active=True).first()
    if category is None or category.children.filter(active=True).exists():
        raise Open311Error(404, _("service_code“%(code)s”不存在。") % {"code": code})
    return category


def attributes_of(category: Category) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(category=category).order_by("order", "id"))


def service_definition(code: str) -> dict[str, Any]:
    category = service(code)
    attributes = []
    for attribute in attributes_of(category):
        attributes.append(
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description or None,
                "order": attribute.order,
                "description": attribute.description,
                "values": [{"key": key, "name": name} for key, name in attribute.values],
            }
        )
    return {"service_code": category.code, "attributes": attributes}


# --- requests ---------------------------------------------------------------------------


def _request_rows():
    return Case.objects.select_related("category", "unit", "open311")


def request_out(case: Case) -> dict[str, Any]:
    """One case as an Open311 service request: public fields only."""
    # A case not sent through Open311 has no such row (the missing relation is an AttributeError).
    extra = getattr(case, "open311", None)
    return {
        "service_request_id": case.number,
        "status": statuses.status_of(case.status),
        "status_notes": str(case.get_status_display()),
        "service_name": case.category.name if case.category else "",
        "service_code": case.category.code if case.category else "",
        "description": public_text(case.description),
        "agency_responsible": case.unit.name if case.unit else "",
        "service_notice": "",
        "requested_datetime": case.created_at,
        "updated_datetime": case.updated_at,
        "expected_datetime": case.completion_due,
        "address": mask_address(case.address),
        "address_id": extra.address_id if extra else "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lng,
        "media_url": extra.media_url if extra else "",
    }


def request_by_id(number: str) -> Case:
    case = _request_rows().filter(number=number).first()
    if case is None:
        raise Open311Error(404, _("service_request_id“%(id)s”不存在。") % {"id": number})
    return case


def date_window(
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """(start, end) of a search: both given → that range, at most 90 days; one given →
    90 days from or up to it; none → the last 90 days."""
    if start and end and end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if start and end:
        if end - start > WINDOW:
            raise Open311Error(400, _("start_date 与 end_date 之间不能超过90天。"))
        return start, end
    if start:
        return start, start + WINDOW
    if end:
        return end - WINDOW, end
    now = now or timezone.now()
    return now - WINDOW, now


def _page(rows, page, page_size):
    """One page of ordered rows: (the rows, whether another page follows)."""
    start = (page - 1) * page_size
    found = list(rows[start : start + page_size + 1])
    return found[:page_size], len(found) > page_size


def requests(
    *,
    ids: list[str] | None = None,
    codes: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: list[str] | None = None,
    now: dt.datetime | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Case], bool]:
    """GET requests: by ids (then the other filters are ignored, as the standard says), or
    by service codes, Open311 status and the date window; newest first, one page:
    (rows, whether another page follows)."""
    rows = _request_rows()
    if ids:
        rows = rows.filter(number__in=ids[:MAX_REQUESTS])
    else:
        start, end = date_window(start, end, now)
        rows = rows.filter(created_at__gte=start, created_at__lte=end)
        if codes:
            rows = rows.filter(category__code__in=codes)
        if status:
            wanted = [s for value in status for s in statuses.BY_STATUS[value]]
            rows = rows.filter(status__in=wanted)
    return _page(rows.order_by("-created_at", "-id"), page, page_size)


def token(value: str) -> Open311Request:
    found = Open311Request.objects.select_related("case").filter(token=value).first()
    if found is None:
        raise Open311Error(404, _("token“%(token)s”不存在。") % {"token": value})
    return found


# --- updates (the servicerequestupdates extension) -------------------------------------


def _update_description(event):
    label = states.action_label(event.action)
    if event.action == "dispatch" and event.unit_id:
        return _("%(label)s：%(unit)s") % {"label": label, "unit": event.unit.name}
    if event.action == "resolve" and event.note:
        return _("%(label)s：%(note)s") % {"label": label, "note": public_text(event.note)}
    if event.action == "rate":
        satisfaction = event.data.get("satisfaction")
        if satisfaction in Rating.Satisfaction.values:
            return _("%(label)s：%(value)s") % {"label": label, "value": Rating.Satisfaction(satisfaction).label}
    if event.action == "merge" and event.data.get("master"):
        return _("%(label)s：并入 %(master)s") % {"label": label, "master": event.data["master"]}
    if event.action == statuses.UPDATE_ACTION:
        return public_text(event.note)
    return label


def update_out(event: CaseEvent) -> dict[str, Any]:
    status = statuses.extended_of(event.to_status)
    if event.action == statuses.UPDATE_ACTION:
        status = event.data.get("status") or status
    media_url = event.data.get("media_url", "") if event.action == statuses.UPDATE_ACTION else ""
    return {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": status,
        "updated_datetime": event.at,
        "description": _update_description(event),
        "media_url": media_url,
    }


def updates(
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    ids: list[str] | None = None,
    now: dt.datetime | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[CaseEvent], bool]:
    """Public steps of the cases in the window, oldest first (so that a client can also page
    on by passing the last ``updated_datetime`` as the next ``start_date``), one page:
    (events, whether another page follows)."""
    start, end = date_window(start, end, now)
    events = CaseEvent.objects.filter(action__in=statuses.PUBLIC_ACTIONS, at__gte=start, at__lte=end).select_related(
        "case", "unit"
    )
    if ids:
        events = events.filter(case__number__in=ids)
    return _page(events.order_by("at", "id"), page, page_size)


# --- webhooks -----------------------------------------------------------------------------


def webhook_overview(limit: int = 50) -> tuple[list[Webhook], list[Delivery]]:
    """Every webhook with its delivery counts, and the latest deliveries."""
    hooks: list[Webhook] = list(
        Webhook.objects.annotate(
            n_pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
            n_delivered=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DELIVERED)),
            n_failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        ).order_by("name", "id")
    )
    latest = list(Delivery.objects.select_related("webhook").order_by("-id")[:limit])
    return hooks, latest


# --- upstream platforms (市/区 12345) ----------------------------------------------------------

UPSTREAM_CHANNEL = "open311"


def upstream_overview(limit: int = 30) -> tuple[list[dict[str, Any]], list[OutboxMessage]]:
    """Every upstream platform with its last pull, the cases pulled from it and the updates
    sent back (queued, sent, failed); and the latest updates, newest first."""
    rows = []
    queued_states = (OutboxMessage.State.QUEUED, OutboxMessage.State.SENDING)
    sent_states = (OutboxMessage.State.SENT, OutboxMessage.State.DELIVERED)
    for upstream in Upstream.objects.annotate(n_cases=Count("cases")).order_by("name", "pk"):
        updates = OutboxMessage.objects.filter(channel=UPSTREAM_CHANNEL, address__startswith=f"{upstream.pk}:")
        counts = {row["state"]: row["n"] for row in updates.order_by().values("state").annotate(n=Count("id"))}
        rows.append(
            {
                "upstream": upstream,
                "result_lines": upstream.last_result.splitlines(),
                "queued": sum(counts.get(s, 0) for s in queued_states),
                "sent": sum(counts.get(s, 0) for s in sent_states),
                "failed": counts.get(OutboxMessage.State.FAILED, 0),
            }
        )
    latest = list(OutboxMessage.objects.filter(channel=UPSTREAM_CHANNEL).order_by("-id")[:limit])
    return rows, latest
