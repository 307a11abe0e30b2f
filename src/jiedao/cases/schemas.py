"""Schemas of the case API (what goes in and out), and the functions that turn cases
into those shapes. Times go out in Beijing time (ISO-8601 with +08:00).

Personal data of the reporter (name, phone, address) is masked unless
``selectors.may_see_reporter`` allows the user to see it; the API operation that shows it
unmasked writes the access log (the builders here only build). Lists always mask. Free text
(the description, reasons, comments, the timeline's notes) keeps what was typed; phones and
identity numbers in it are masked for the same readers (``common.masking.mask_personal_text``).
"""

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema

from jiedao.common.errors import ValidationFailed
from jiedao.common.masking import mask_address, mask_name, mask_personal_text, mask_phone

from . import selectors, states
from .models import Channel, Extension, Status, Urgency

# --- in ------------------------------------------------------------------------


class CaseIn(Schema):
    """A new case. ``channel`` defaults to the caller's own door (resident: portal,
    grid worker: grid, other staff: api). ``photos``: base64 strings or data URLs."""

    channel: str | None = None
    description: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    community: str = ""
    grid: str = ""
    category: str = ""
    dispatch: bool = False
    photos: list[str] = []
    # 并案 at intake: with ``check_duplicates`` a case that looks like an open or recent one is
    # not created (409 with the candidates); ``attach_to`` merges the new case into that case.
    check_duplicates: bool = False
    attach_to: str = ""
    # 三事分流: a call settled at the desk — ``answered`` or ``advised`` with ``answer``, or
    # ``voided`` with ``void_reason`` (prank, wrong_number, outside, silent); or, by a grid
    # worker in their own grid, ``self_resolved`` (已自行处置) with ``answer`` and a photo.
    outcome: str = ""
    answer: str = ""
    void_reason: str = ""


class ClassifyIn(Schema):
    category: str = ""


class DispatchIn(Schema):
    """``unit`` overrides the routing rules."""

    unit: str | None = None
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    """A note; required for note, refuse_extension, verify_fail, close and inform."""

    note: str = ""


class FlagIn(Schema):
    """标记舆情/群体事件: ``kind`` "opinion" (舆情), "mass" (群体事件) or "" (take the flag off);
    ``note``, why (required)."""

    kind: str = ""
    note: str = ""


class SuperviseIn(Schema):
    """督办: ``note``, what the unit must reply; ``due``, the reply deadline (ISO 8601 date and
    time, Beijing time when no offset is given: in the future, at most the set days ahead)."""

    note: str = ""
    due: str = ""


class SuperviseReplyIn(Schema):
    """答复督办: the unit's reply to the 督办 waiting for it."""

    reply: str = ""


class SuperviseDecisionIn(Schema):
    """认可答复 / 退回重答 of the unit's reply to a 督办: ``reason``, required to return (a remark
    when accepting); ``due``, the new reply deadline when returning (as ``SuperviseIn``)."""

    reason: str = ""
    due: str = ""


class ExtensionIn(Schema):
    extra_workdays: int
    reason: str = ""


class WhistleIn(Schema):
    units: list[str] = []
    report_hours: float
    reason: str = ""


class ReportIn(Schema):
    part: str = ""


class ResolveIn(Schema):
    result: str = ""
    photos: list[str] = []


class VerifyIn(Schema):
    """核查: ``note`` (required when failing); on site, ``photos`` (base64 strings or data URLs)
    and the phone's ``lat``/``lng`` within the set distance of the case; otherwise ``reason``."""

    note: str = ""
    reason: str = ""
    lat: float | None = None
    lng: float | None = None
    photos: list[str] = []


class SelfResolveIn(Schema):
    """已自行处置: what the grid worker did on the spot, and at least one photo."""

    result: str = ""
    photos: list[str] = []


class RateIn(Schema):
    resolved: bool
    satisfaction: str
    comment: str = ""


class AnswerIn(Schema):
    """The answer given (直接答复) or the advice (私事告知)."""

    answer: str = ""


class VoidIn(Schema):
    """Why the call is void: prank, wrong_number, outside, silent (a repeat is merged instead)."""

    reason: str = ""
    note: str = ""


class MergeIn(Schema):
    master: str
    note: str = ""


class PublicRateIn(RateIn):
    phone: str


# --- out -----------------------------------------------------------------------


class CodeName(Schema):
    code: str
    name: str


class CodeLabel(Schema):
    code: str
    label: str


class CategoryOut(Schema):
    code: str
    name: str
    path: list[CodeName]
    path_name: str


class PhotoOut(Schema):
    kind: str
    kind_label: str
    url: str


class RatingOut(Schema):
    round: int
    unit: CodeName | None
    resolved: bool
    satisfaction: str
    satisfaction_label: str
    source: str
    source_label: str
    comment: str
    rated_at: dt.datetime


class SummonsOut(Schema):
    unit: CodeName
    reported: bool
    reported_at: dt.datetime | None
    part: str


class WhistleOut(Schema):
    blown_at: dt.datetime
    blown_by: str
    report_due: dt.datetime
    reason: str
    summonses: list[SummonsOut]
    reported: list[str]
    not_reported: list[str]


class ExtensionOut(Schema):
    extra_workdays: int
    reason: str
    requested_at: dt.datetime
    requested_by: str


class CaseListItem(Schema):
    number: str
    status: str
    status_label: str
    channel: str
    channel_label: str
    description: str
    category: CodeName | None
    unit: CodeName | None
    community: CodeName | None
    grid: CodeName | None
    urgency: str
    urgency_label: str
    supervised: bool
    reporter_name: str
    reporter_phone: str
    created_at: dt.datetime
    response_due: dt.datetime | None
    completion_due: dt.datetime | None


class CasePage(Schema):
    items: list[CaseListItem]
    next_cursor: str | None


class CaseDetail(Schema):
    number: str
    status: str
    status_label: str
    channel: str
    channel_label: str
    description: str
    reporter_name: str
    reporter_phone: str
    address: str
    reporter_masked: bool
    lat: float | None
    lng: float | None
    community: CodeName | None
    grid: CodeName | None
    category: CategoryOut | None
    unit: CodeName | None
    routed_by: str
    urgency: str
    urgency_label: str
    supervised: bool
    created_at: dt.datetime
    dispatched_at: dt.datetime | None
    response_due: dt.datetime | None
    completion_due: dt.datetime | None
    responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    return_count: int
    rework_count: int
    extension_count: int
    master: str | None
    merged_cases: list[str]
    photos: list[PhotoOut]
    ratings: list[RatingOut]
    whistles: list[WhistleOut]
    pending_extension: ExtensionOut | None
    allowed_actions: list[CodeLabel]


class EventOut(Schema):
    seq: int
    at: dt.datetime
    actor: str
    actor_unit: CodeName | None
    action: str
    action_label: str
    from_status: str
    from_status_label: str
    to_status: str
    to_status_label: str
    note: str
    data: dict


class PublicEventOut(Schema):
    at: dt.datetime
    action: str
    action_label: str
    status: str
    status_label: str
    unit: str
    note: str


class PublicCaseOut(Schema):
    number: str
    status: str
    status_label: str
    description: str
    category: str
    unit: str
    reporter_name: str
    reporter_phone: str
    address: str
    created_at: dt.datetime
    master: str | None
    can_rate: bool
    timeline: list[PublicEventOut]


class UnitMonthOut(Schema):
    unit_code: str
    unit_name: str
    month: str
    dispatched: int
    rated: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    composite: float | None
    average_response_hours: float | None
    average_handling_workdays: float | None
    overdue_rate: float | None
    return_rate: float | None
    rework_rate: float | None


class ThreeRatesOut(UnitMonthOut):
    units: list[UnitMonthOut] | None = None


# --- photos ----------------------------------------------------------------------

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[^,]*)?;base64,", re.IGNORECASE)


def decode_photos(items, field="photos"):
    """Base64 strings or data URLs → files for the services, which take them as every upload
    (``jiedao.common.images``: the format read from the content, whatever the data URL
    says, re-encoded and stored under a name of ours). A string that is not base64 is refused."""
    files = []
    for index, item in enumerate(items or [], start=1):
        text = (item or "").strip()
        match = _DATA_URL.match(text)
        if match:
            text = text[match.end() :]
        text = re.sub(r"\s+", "", text)
        try:
            if "-" in text or "_" in text:
                data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            else:
                data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(field, _("第%(n)d张照片不是有效的 base64 编码。") % {"n": index}) from None
        if not data:
            raise ValidationFailed(field, _("第%(n)d张照片是空的。") % {"n": index})
        files.append(ContentFile(data, name=f"photo-{index}"))
    return files


# --- out builders -----------------------------------------------------------------


def _local(value):
    return timezone.localtime(value) if value else None


def _code_name(obj):
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _person(user):
    if user is None:
        return ""
    return user.display_name or user.username


def _label(choices, value):
    """What ``get_FOO_display()`` shows for a stored choice, without building the field's
    choices on every call (the value itself when it is not one of them)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _status_label(code):
    return str(Status(code).label) if code in Status.values else ""


def _category_out(category):
    if category is None:
        return None
    chain = []
    node = category
    while node is not None:
        chain.append(node)
        node = node.parent if node.parent_id else None
    chain.reverse()
    return {
        "code": category.code,
        "name": category.name,
        "path": [{"code": c.code, "name": c.name} for c in chain],
        "path_name": " / ".join(c.name for c in chain),
    }


PERSONAL_FIELDS = ("reporter_name", "reporter_phone", "address")


def _text(value, masked):
    """Free text for a reader who sees the reporter masked (``masked``) or in full."""
    return mask_personal_text(value) if masked else value


def _reporter(case, unmasked):
    if unmasked:
        return {"reporter_name": case.reporter_name, "reporter_phone": case.reporter_phone, "address": case.address}
    return {
        "reporter_name": mask_name(case.reporter_name),
        "reporter_phone": mask_phone(case.reporter_phone),
        "address": mask_address(case.address),
    }


def list_item(case):
    """One row of a list: the reporter is always masked, and so are the phones and identity
    numbers written in the description."""
    return {
        "number": case.number,
        "status": case.status,
        "status_label": _label(Status, case.status),
        "channel": case.channel,
        "channel_label": _label(Channel, case.channel),
        "description": mask_personal_text(case.description),
        "category": _code_name(case.category),
        "unit": _code_name(case.unit),
        "community": _code_name(case.community),
        "grid": _code_name(case.grid),
        "urgency": case.urgency,
        "urgency_label": _label(Urgency, case.urgency),
        "supervised": case.supervised,
        "reporter_name": mask_name(case.reporter_name),
        "reporter_phone": mask_phone(case.reporter_phone),
        "created_at": _local(case.created_at),
        "response_due": _local(case.response_due),
        "completion_due": _local(case.completion_due),
    }


@dataclass(frozen=True)
class Loaded:
    """What hangs off a case that is already in memory (the intake has just written it): each
    list is used instead of reading the rows again; None reads them."""

    photos: list | None = None
    ratings: list | None = None
    extensions: list | None = None
    merged_cases: list | None = None
    whistles: list | None = None


NOTHING_LOADED = Loaded()


def _whistles(case, masked=False, loaded=NOTHING_LOADED):
    out = []
    whistles = loaded.whistles
    if whistles is None:
        whistles = case.whistles.select_related("blown_by").prefetch_related("summonses__unit").order_by("blown_at")
    else:
        whistles = sorted(whistles, key=lambda w: w.blown_at)
    for whistle in whistles:
        summonses = sorted(whistle.summonses.all(), key=lambda s: s.unit.code)
        out.append(
            {
                "blown_at": _local(whistle.blown_at),
                "blown_by": _person(whistle.blown_by),
                "report_due": _local(whistle.report_due),
                "reason": _text(whistle.reason, masked),
                "summonses": [
                    {
                        "unit": _code_name(s.unit),
                        "reported": s.reported_at is not None,
                        "reported_at": _local(s.reported_at),
                        "part": _text(s.part, masked),
                    }
                    for s in summonses
                ],
                "reported": [s.unit.code for s in summonses if s.reported_at is not None],
                "not_reported": [s.unit.code for s in summonses if s.reported_at is None],
            }
        )
    return out


def case_detail(user, case, *, unmasked: bool, loaded: Loaded = NOTHING_LOADED):
    """The full case as ``user`` may see it: the reporter unmasked when ``unmasked`` (the
    operation decided it with ``selectors.may_see_reporter`` and wrote the access log).
    Whoever sees the reporter masked also reads the free text (description, reasons,
    comments) with its phones and identity numbers masked."""
    masked = not unmasked
    extensions = loaded.extensions
    if extensions is None:
        pending = (
            case.extensions.filter(decision=Extension.Decision.PENDING)
            .select_related("requested_by")
            .order_by("requested_at")
            .first()
        )
    else:
        pending = min(
            (e for e in extensions if e.decision == Extension.Decision.PENDING),
            key=lambda e: e.requested_at,
            default=None,
        )
    merged = loaded.merged_cases
    photos = loaded.photos
    ratings = loaded.ratings
    return {
        "number": case.number,
        "status": case.status,
        "status_label": _label(Status, case.status),
        "channel": case.channel,
        "channel_label": _label(Channel, case.channel),
        "description": _text(case.description, masked),
        **_reporter(case, unmasked),
        "reporter_masked": not unmasked,
        "lat": case.lat,
        "lng": case.lng,
        "community": _code_name(case.community),
        "grid": _code_name(case.grid),
        "category": _category_out(case.category),
        "unit": _code_name(case.unit),
        "routed_by": case.routed_by,
        "urgency": case.urgency,
        "urgency_label": _label(Urgency, case.urgency),
        "supervised": case.supervised,
        "created_at": _local(case.created_at),
        "dispatched_at": _local(case.dispatched_at),
        "response_due": _local(case.response_due),
        "completion_due": _local(case.completion_due),
        "responded_at": _local(case.responded_at),
        "resolved_at": _local(case.resolved_at),
        "closed_at": _local(case.closed_at),
        "return_count": case.return_count,
        "rework_count": case.rework_count,
        "extension_count": case.extension_count,
        "master": case.master.number if case.master_id else None,
        "merged_cases": (
            sorted(c.number for c in merged)
            if merged is not None
            else list(case.merged_cases.order_by("number").values_list("number", flat=True))
        ),
        "photos": [
            {"kind": p.kind, "kind_label": p.get_kind_display(), "url": p.image.url}
            for p in (sorted(photos, key=lambda p: p.pk) if photos is not None else case.photos.order_by("id"))
        ],
        "ratings": [
            {
                "round": r.round,
                "unit": _code_name(r.unit),
                "resolved": r.resolved,
                "satisfaction": r.satisfaction,
                "satisfaction_label": r.get_satisfaction_display(),
                "source": r.source,
                "source_label": r.get_source_display(),
                "comment": _text(r.comment, masked),
                "rated_at": _local(r.rated_at),
            }
            for r in (
                sorted(ratings, key=lambda r: r.round)
                if ratings is not None
                else case.ratings.select_related("unit").order_by("round")
            )
        ],
        "whistles": _whistles(case, masked, loaded),
        "pending_extension": {
            "extra_workdays": pending.extra_workdays,
            "reason": _text(pending.reason, masked),
            "requested_at": _local(pending.requested_at),
            "requested_by": _person(pending.requested_by),
        }
        if pending
        else None,
        "allowed_actions": [{"code": t.action, "label": str(t.label)} for t in selectors.allowed_actions(user, case)],
    }


def _actor_name(event):
    if event.actor is not None:
        return getattr(event, "actor_shown", None) or _person(event.actor)
    if event.action == "rate":
        return _("诉求人")
    return _("系统")


def event_out(event):
    """One step of the timeline, from ``selectors.timeline`` (which masks for the reader)."""
    return {
        "seq": event.seq,
        "at": _local(event.at),
        "actor": str(_actor_name(event)),
        "actor_unit": _code_name(event.actor_unit),
        "action": event.action,
        "action_label": states.action_label(event.action),
        "from_status": event.from_status,
        "from_status_label": _status_label(event.from_status),
        "to_status": event.to_status,
        "to_status_label": _status_label(event.to_status),
        "note": event.note_shown,
        "data": event.data_shown,
    }


# What a resident without an account sees of the timeline: the steps, never staff
# names or internal notes; the result and the closing note are theirs to read.
PUBLIC_ACTIONS = {
    "create",
    "dispatch",
    "respond",
    "resolve",
    "verify_pass",
    "verify_fail",
    "rate",
    "close",
    "merge",
    "approve_extension",
    "self_resolve",
}
PUBLIC_NOTES = {"resolve", "close", "rate", "self_resolve"}


def public_case_out(case, events):
    timeline = [
        {
            "at": _local(e.at),
            "action": e.action,
            "action_label": states.action_label(e.action),
            "status": e.to_status,
            "status_label": _status_label(e.to_status),
            "unit": e.unit.name if (e.action == "dispatch" and e.unit is not None) else "",
            "note": e.note if e.action in PUBLIC_NOTES else "",
        }
        for e in events
        if e.action in PUBLIC_ACTIONS
    ]
    return {
        "number": case.number,
        "status": case.status,
        "status_label": _label(Status, case.status),
        "description": case.description,
        "category": case.category.path_name if case.category_id else "",
        "unit": case.unit.name if case.unit_id else "",
        "reporter_name": mask_name(case.reporter_name),
        "reporter_phone": mask_phone(case.reporter_phone),
        "address": mask_address(case.address),
        "created_at": _local(case.created_at),
        "master": case.master.number if case.master_id else None,
        "can_rate": case.status == Status.RATING,
        "timeline": timeline,
    }


URGENCIES = set(Urgency.values)
