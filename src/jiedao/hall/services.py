"""Every write in the service hall. Each function takes the acting user and plain values and,
in one transaction: checks the role against the permission table before it looks anything up
(403), then moves the record through its lifecycle in ``states`` — the engine's one order:
state (409), who on this record (403), note (422) — and writes the event with the move. An
application's events are written only through ``states.APPLICATIONS`` (``take`` and
``record``); no status is set any other way, except the system completing a bundle
(``assign_status``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common import locks, params
from jiedao.common.crypto import blind_index
from jiedao.common.errors import FieldErrors, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from jiedao.common.lifecycle import assign_status
from jiedao.messaging.services import tell_resident
from jiedao.org import permissions
from jiedao.org.models import Unit, User
from jiedao.registry.models import Person
from jiedao.workcal.calendar import SHANGHAI, add_workdays, workday_deadline

from . import links, rules
from .models import (
    DONE_STATUSES,
    Appeal,
    Application,
    ApplicationMaterial,
    Appointment,
    Bundle,
    Channel,
    Delivery,
    ExerciseLevel,
    Group,
    ItemType,
    Level,
    Material,
    MaterialForm,
    MaterialSource,
    MaterialStatus,
    Mode,
    OnlineDepth,
    Rating,
    RatingChannel,
    Rectification,
    ServiceItem,
    Status,
    Ticket,
    TicketStatus,
)
from .rules import booking_max_open, booking_workdays, slot_capacity, slots_of
from .states import APPLICATIONS, APPOINTMENTS, MATERIALS, RECTIFICATIONS, TICKETS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def rectify_days() -> int:
    """Working days a unit has to fix the cause of a bad rating (default 5)."""
    return int(getattr(settings, "JIEDAO", {}).get("HALL_RECTIFY_DAYS", 5))


def _now(at=None):
    return at or timezone.now()


def _id(value) -> int:
    """A row's id as a page sends it; anything else matches no row (404, or 422 for a material)."""
    return params.row_id(value) or 0


def _number(at):
    day = at.astimezone(SHANGHAI).date()
    prefix = f"BJ{day:%Y%m%d}"
    last = Application.objects.filter(number__startswith=prefix).aggregate(m=Max("number"))["m"]
    seq = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def _get(number, lock=True):
    qs = Application.objects.select_related("item", "unit", "parent", "bundle")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(number=number)
    except Application.DoesNotExist:
        raise NotFound(_("办件不存在。")) from None


def rating_token(app: Application) -> str:
    """The link sent by SMS lets the applicant rate without signing in, until it expires (links.py)."""
    return links.rating_token(app)


# --- materials and acceptance ---------------------------------------------------------


def find_person(id_number: str) -> Person | None:
    """The registry's record of a resident by identity number (blind index), or None."""
    id_number = (id_number or "").strip().upper()
    if not id_number:
        return None
    return Person.objects.filter(id_index=blind_index(id_number)).first()


def _check_applicant(applicant, errors):
    name = (applicant.get("name") or "").strip()
    id_number = (applicant.get("id_number") or "").strip().upper()
    phone = (applicant.get("phone") or "").strip()
    if not name:
        errors.add("name", _("请填写申请人姓名。"))
    params.check_length(errors, "name", name, Application._meta.get_field("applicant_name"), _("申请人姓名"))
    if id_number and len(id_number) not in (15, 18):
        errors.add("id_number", _("身份证号应为18位。"))
    if len(phone) > 30:
        errors.add("phone", _("联系电话不能超过 %(max)d 个字。") % {"max": 30})
    return name, id_number, phone


def _material_plan(items, choices, person, pledge_signed, errors):
    """Decides each material's status. ``choices`` maps material id to provided,
    missing or pledged; a material is shared (免提交) only when the applicant's registry record
    holds the field it needs (``rules.exemption_source``), and the plan keeps that source."""
    plan = []
    for item in items:
        for material in item.materials.all():
            choice = choices.get(material.pk) or choices.get(str(material.pk)) or ""
            source = rules.exemption_source(material, person)
            if source:
                status = MaterialStatus.SHARED
            elif choice == MaterialStatus.PROVIDED:
                status = MaterialStatus.PROVIDED
            elif choice == MaterialStatus.PLEDGED:
                if not item.pledge_allowed:
                    errors.add(f"material_{material.pk}", _("“%(name)s”不适用告知承诺。") % {"name": material.name})
                    continue
                if not pledge_signed:
                    errors.add("pledge_signed", _("告知承诺须由申请人签署承诺书。"))
                    continue
                status = MaterialStatus.PLEDGED
            elif material.core:
                errors.add(
                    f"material_{material.pk}", _("核心材料“%(name)s”未提交，不能容缺受理。") % {"name": material.name}
                )
                continue
            else:
                status = MaterialStatus.MISSING
            plan.append((item, material, status, source if status == MaterialStatus.SHARED else ""))
    return plan


def _mode(plan):
    statuses = {status for _i, _m, status, _s in plan}
    if MaterialStatus.PLEDGED in statuses:
        return Mode.PLEDGE
    if MaterialStatus.MISSING in statuses:
        return Mode.INCOMPLETE
    return Mode.NORMAL


def _start_clock(app, at):
    """Promised and statutory limits count working days from acceptance; missing
    non-core materials get the item's supply limit."""
    app.accepted_at = at
    if app.item_id:
        app.due_at = workday_deadline(at, app.item.promised_days)
        app.statutory_due_at = workday_deadline(at, app.item.statutory_days)
        for row in app.materials.filter(status=MaterialStatus.MISSING):
            row.due_at = workday_deadline(at, app.item.supply_days)
            row.save(update_fields=["due_at"])


def _write_materials(app, plan, item=None):
    for plan_item, material, status, source in plan:
        if item is None or plan_item.pk == item.pk:
            ApplicationMaterial.objects.create(application=app, material=material, status=status, source=source)


def _items_of(item_code, bundle_code):
    if bundle_code:
        bundle = Bundle.objects.filter(code=bundle_code).first()
        if bundle is None:
            raise NotFound(_("一件事不存在。"))
        return None, bundle, list(bundle.items.prefetch_related("materials").select_related("unit"))
    item = ServiceItem.objects.filter(code=item_code, active=True).select_related("unit").first()
    if item is None:
        raise NotFound(_("事项不存在。"))
    return item, None, [item]


@transaction.atomic
def accept_at_window(
    user: User,
    *,
    applicant: Mapping[str, str],
    materials: Mapping[int, str] | Mapping[str, str],
    item_code: str = "",
    bundle_code: str = "",
    pledge_signed: bool = False,
    assistant_name: str = "",
    assisted_reason: str = "",
    ticket_id: int | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """前台综合受理: the window accepts for any item or bundle, in one visit."""
    permissions.require(user, "hall.accept_at_window")
    at = _now(now)
    item, bundle, items = _items_of(item_code, bundle_code)
    errors = FieldErrors()
    name, id_number, phone = _check_applicant(applicant, errors)
    if assistant_name and not assisted_reason:
        errors.add("assisted_reason", _("帮办代办请注明原因（如高龄、残疾）。"))
    params.check_length(
        errors, "assistant_name", assistant_name, Application._meta.get_field("assistant_name"), _("帮办代办人")
    )
    params.check_length(
        errors, "assisted_reason", assisted_reason, Application._meta.get_field("assisted_reason"), _("代办原因")
    )
    person = find_person(id_number)
    plan = _material_plan(items, materials, person, pledge_signed, errors)
    errors.raise_if_any()
    ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
    common = {
        "applicant_name": name,
        "applicant_id": id_number,
        "applicant_id_index": blind_index(id_number) if id_number else "",
        "applicant_phone": phone,
        "person": person,
        "channel": Channel.WINDOW,
        "pledge_signed": bool(pledge_signed),
        "assisted": bool(assistant_name),
        "assistant_name": assistant_name,
        "assisted_reason": assisted_reason,
        "submitted_at": at,
        "accepted_by": user,
        "status": Status.ACCEPTED,
        "mode": _mode(plan),
        "ticket": ticket,
    }
    app = Application.objects.create(
        number=_number(at), item=item, bundle=bundle, unit=item.unit if item else None, visits=1, **common
    )
    APPLICATIONS.record(
        app,
        "window_accept",
        user,
        before="",
        at=at,
        data={
            "mode": app.mode,
            "shared": sum(1 for p in plan if p[2] == MaterialStatus.SHARED),
            "assisted": app.assisted,
        },
    )
    if item:
        _write_materials(app, plan)
        _start_clock(app, at)
    else:
        app.accepted_at = at
        for child_item in items:
            child_plan = [p for p in plan if p[0].pk == child_item.pk]
            child = Application.objects.create(
                number=_number(at),
                item=child_item,
                parent=app,
                unit=child_item.unit,
                visits=0,
                **{**common, "mode": _mode(child_plan)},
            )
            _write_materials(child, child_plan)
            _start_clock(child, at)
            child.save()
            APPLICATIONS.record(child, "window_accept", user, before="", at=at, note=bundle.name)
        app.due_at = max(cast(dt.datetime, c.due_at) for c in app.children.all())  # each child's clock started
    app.save()
    return app


@transaction.atomic
def submit_online(
    user: User,
    *,
    item_code: str,
    applicant: Mapping[str, str],
    materials: Mapping[int, str] | Mapping[str, str],
    now: dt.datetime | None = None,
) -> Application:
    """一网通办: a resident applies from the portal; the window then accepts (预审)."""
    permissions.require(user, "hall.apply")
    at = _now(now)
    item, _b, items = _items_of(item_code, "")
    errors = FieldErrors()
    name, id_number, phone = _check_applicant(applicant, errors)
    person = find_person(id_number)
    plan = _material_plan(items, materials, person, False, errors)
    errors.raise_if_any()
    app = Application.objects.create(
        number=_number(at),
        item=item,
        unit=item.unit,
        status=Status.SUBMITTED,
        channel=Channel.ONLINE,
        mode=_mode(plan),
        applicant_name=name,
        applicant_id=id_number,
        applicant_id_index=blind_index(id_number) if id_number else "",
        applicant_phone=phone,
        applicant_user=user,
        person=person,
        submitted_at=at,
        visits=0,
    )
    _write_materials(app, plan)
    APPLICATIONS.record(app, "create", user, before="", at=at)
    return app


@transaction.atomic
def accept(user: User, *, number: str, now: dt.datetime | None = None) -> Application:
    """预审通过: the window accepts an online application; its clock starts."""
    at = _now(now)
    permissions.require(user, "hall.application.accept")
    app = _get(number)
    checked = APPLICATIONS.check(user, app, "accept")
    app.accepted_by = user
    _start_clock(app, at)
    APPLICATIONS.take(
        user, app, "accept", at=at, checked=checked, save_fields=("accepted_by", "due_at", "statutory_due_at")
    )
    return app


@transaction.atomic
def refuse(user: User, *, number: str, note: str, now: dt.datetime | None = None) -> Application:
    at = _now(now)
    permissions.require(user, "hall.application.refuse")
    app = _get(number)
    checked = APPLICATIONS.check(user, app, "refuse", note)
    app.result_note = note
    APPLICATIONS.take(user, app, "refuse", note=note, at=at, checked=checked, save_fields=("result_note",))
    return app


def _add_visit(app):
    app.visits += 1
    if app.parent_id:
        Application.objects.filter(pk=app.parent_id).update(visits=F("visits") + 1)


@transaction.atomic
def supply(
    user: User, *, number: str, material_id: int | str | None, at_window: bool = True, now: dt.datetime | None = None
) -> Application:
    """补正: a missing (容缺) material is handed in; at the window it costs a visit."""
    at = _now(now)
    permissions.require(user, "hall.application.supply")
    app = _get(number)
    checked = APPLICATIONS.check(user, app, "supply")
    row = (
        app.materials.filter(material_id=_id(material_id), status=MaterialStatus.MISSING)
        .select_related("material")
        .first()
    )
    if row is None:
        raise ValidationFailed("material", _("该材料无需补正。"))
    MATERIALS.take(user, row, "supply", at=at)
    if at_window:
        _add_visit(app)
    APPLICATIONS.take(
        user,
        app,
        "supply",
        at=at,
        checked=checked,
        save_fields=("visits",),
        data={"material": row.material.name, "at_window": at_window, "late": bool(row.due_at and at > row.due_at)},
    )
    return app


@transaction.atomic
def approve(user: User, *, number: str, note: str = "", now: dt.datetime | None = None) -> Application:
    at = _now(now)
    permissions.require(user, "hall.application.approve")
    app = _get(number)
    checked = APPLICATIONS.check(user, app, "approve", note)
    missing = list(app.materials.filter(status=MaterialStatus.MISSING).values_list("material__name", flat=True))
    if missing:
        raise InvalidTransition(_("容缺材料尚未补齐（%(names)s），不能审批通过。") % {"names": "、".join(missing)})
    app.result_note = note
    APPLICATIONS.take(user, app, "approve", note=note, at=at, checked=checked, save_fields=("result_note",))
    return app


@transaction.atomic
def reject(user: User, *, number: str, note: str, now: dt.datetime | None = None) -> Application:
    at = _now(now)
    permissions.require(user, "hall.application.reject")
    app = _get(number)
    checked = APPLICATIONS.check(user, app, "reject", note)
    app.result_note = note
    APPLICATIONS.take(user, app, "reject", note=note, at=at, checked=checked, save_fields=("result_note",))
    _complete_parent(app, at)
    _invite_rating(app, at)
    return app


@transaction.atomic
def issue(user: User, *, number: str, delivery: str = Delivery.WINDOW, now: dt.datetime | None = None) -> Application:
    """统一窗口出件. Collecting at the window later costs a visit; on the spot, by post
    or as an electronic licence does not."""
    at = _now(now)
    permissions.require(user, "hall.application.issue")
    app = _get(number)
    checked = APPLICATIONS.check(user, app, "issue")
    if delivery not in Delivery.values:
        raise ValidationFailed("delivery", _("请选择出件方式。"))
    if delivery == Delivery.ON_THE_SPOT and (
        app.accepted_at is None
        or app.accepted_at.astimezone(SHANGHAI).date() != at.astimezone(SHANGHAI).date()
        or app.events.filter(action="supply", data__at_window=True).exists()
    ):
        raise ValidationFailed("delivery", _("只有受理当次办结的办件才能当场出件。"))
    app.delivery = delivery
    if delivery == Delivery.WINDOW:
        _add_visit(app)
    APPLICATIONS.take(
        user,
        app,
        "issue",
        at=at,
        checked=checked,
        save_fields=("delivery", "visits"),
        data={"delivery": delivery},
    )
    _complete_parent(app, at)
    _invite_rating(app, at)
    return app


def _invite_rating(app: Application, at: dt.datetime) -> None:
    """好差评短信: the applicant of a finished application (or of the 一件事 it completed) gets the
    signed rating link by SMS (nothing when SMS is not configured or they opted out)."""
    if app.parent_id:
        app = Application.objects.select_related("item").get(pk=app.parent_id)
        if app.status not in DONE_STATUSES:
            return
    if not app.applicant_phone:
        return
    what = app.item or app.bundle
    tell_resident(
        kind="hall_rating",
        phone=app.applicant_phone,
        values={"编号": app.number, "事项": what.name if what is not None else ""},
        link=links.rating_link(app),
        at=at,
    )


def _complete_parent(app, at):
    """一件事 completes when every item in it is done: a move of the system's, not a person's."""
    if not app.parent_id:
        return
    parent = Application.objects.select_for_update().get(pk=app.parent_id)
    if parent.status != Status.ACCEPTED or parent.children.exclude(status__in=DONE_STATUSES).exists():
        return
    assign_status(parent, Status.ISSUED)
    parent.issued_at = at
    parent.save(update_fields=["status", "issued_at"])
    APPLICATIONS.record(parent, "complete", None, before=Status.ACCEPTED, at=at)


# --- 好差评 --------------------------------------------------------------------------


@transaction.atomic
def rate(
    user: User | AnonymousUser,
    *,
    number: str,
    level: int | str | None,
    channel: str = RatingChannel.DEVICE,
    comment: str = "",
    token: str | None = None,
    now: dt.datetime | None = None,
) -> Rating:
    """好差评, once per application: by the window's device, the portal, or the SMS link
    (``token``, whoever holds it). A bad rating opens a rectification for the unit."""
    permissions.require(user, "public.rate_application" if token else "hall.application.rate")
    at = _now(now)
    app = _get(number)
    checked = APPLICATIONS.check(user, app, "rate", context=rules.proof(app, token))
    try:
        level = int(level)  # type: ignore[arg-type]  # None (no level sent) raises TypeError, read as no level
    except (TypeError, ValueError):
        level = 0
    if level not in Level.values:
        raise ValidationFailed("level", _("请选择评价等级。"))
    if channel not in RatingChannel.values:
        raise ValidationFailed("channel", _("评价渠道无效。"))
    if Rating.objects.filter(application=app).exists():
        raise InvalidTransition(_("该办件已评价。"))
    rating = Rating.objects.create(application=app, level=level, channel=channel, comment=comment, at=at)
    APPLICATIONS.take(
        user, app, "rate", note=comment, at=at, checked=checked, data={"level": level, "channel": channel}
    )
    if rating.is_bad:
        # The unit that answers for a bad rating: the application's approving unit, or for a
        # bundle (一件事) the unit of its first item. Every application has one of the two.
        first_item = app.children.first() if app.parent_id is None and app.bundle_id else None
        unit = app.unit or (first_item.unit if first_item is not None else None)
        if unit is not None:
            Rectification.objects.create(rating=rating, unit=unit, due_at=workday_deadline(at, rectify_days()))
    return rating


def _rectification(rect_id):
    rect = (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("rating__application")
        .filter(pk=_id(rect_id))
        .first()
    )
    if rect is None:
        raise NotFound()
    return rect


@transaction.atomic
def fix(user: User, *, rect_id: int | str, note: str, now: dt.datetime | None = None) -> Rectification:
    """The unit says how it fixed the cause of a bad rating; recorded on the application."""
    permissions.require(user, "hall.rectify")
    at = _now(now)
    rect = _rectification(rect_id)
    checked = RECTIFICATIONS.check(user, rect, "rectify", note)
    rect.fix_note, rect.fixed_by = note, user
    RECTIFICATIONS.take(user, rect, "rectify", at=at, checked=checked, save_fields=("fix_note", "fixed_by"))
    APPLICATIONS.record(rect.rating.application, "rectify", user, note=note, at=at, data={"on_time": rect.on_time})
    return rect


@transaction.atomic
def callback(
    user: User, *, rect_id: int | str, satisfied: bool, note: str, now: dt.datetime | None = None
) -> Rectification:
    """The applicant is called back after the fix; recorded on the application."""
    permissions.require(user, "hall.rectify_callback")
    at = _now(now)
    rect = _rectification(rect_id)
    checked = RECTIFICATIONS.check(user, rect, "rectify_callback", note)
    rect.callback_satisfied, rect.callback_note = bool(satisfied), note
    RECTIFICATIONS.take(
        user,
        rect,
        "rectify_callback",
        at=at,
        checked=checked,
        save_fields=("callback_satisfied", "callback_note"),
    )
    APPLICATIONS.record(
        rect.rating.application, "callback", user, note=note, at=at, data={"satisfied": bool(satisfied)}
    )
    return rect


@transaction.atomic
def file_appeal(user: User, *, rating_id: int | str, reason: str, now: dt.datetime | None = None) -> Appeal:
    permissions.require(user, "hall.appeal")
    at = _now(now)
    rating = Rating.objects.select_related("application", "rectification").filter(pk=_id(rating_id)).first()
    if rating is None:
        raise NotFound()
    unit_id = rating.rectification.unit_id if hasattr(rating, "rectification") else rating.application.unit_id
    if not (user.has_role("handler") and user.unit_id == unit_id) and not user.has_role("admin"):
        raise NotAllowed()
    if not rating.is_bad:
        raise InvalidTransition(_("只有差评可以申诉。"))
    if Appeal.objects.filter(rating=rating).exists():
        raise InvalidTransition(_("该差评已申诉。"))
    if not (reason or "").strip():
        raise ValidationFailed("reason", _("请填写申诉理由。"))
    appeal = Appeal.objects.create(rating=rating, reason=reason, filed_by=user, filed_at=at)
    APPLICATIONS.record(rating.application, "appeal", user, note=reason, at=at)
    return appeal


@transaction.atomic
def review_appeal(
    user: User, *, appeal_id: int | str, upheld: bool, note: str, now: dt.datetime | None = None
) -> Appeal:
    """An upheld appeal keeps the rating but leaves it out of the measures."""
    permissions.require(user, "hall.appeal_review")
    at = _now(now)
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("rating__application")
        .filter(pk=_id(appeal_id))
        .first()
    )
    if appeal is None:
        raise NotFound()
    if appeal.decision != Appeal.Decision.PENDING:
        raise InvalidTransition(_("该申诉已复核。"))
    if not (note or "").strip():
        raise ValidationFailed("note", _("请填写复核意见。"))
    appeal.decision = Appeal.Decision.UPHELD if upheld else Appeal.Decision.DISMISSED
    appeal.reviewed_by, appeal.reviewed_at, appeal.review_note = user, at, note
    appeal.save()
    if upheld:
        Rating.objects.filter(pk=appeal.rating_id).update(excluded=True)
    APPLICATIONS.record(appeal.rating.application, "review", user, note=note, at=at, data={"decision": appeal.decision})
    return appeal


# --- reminders --------------------------------------------------------------------------


@transaction.atomic
def remind_missing_materials(now: dt.datetime | None = None) -> int:
    """Marks once each missing material whose supply limit ends within a day (or has
    passed) and records the reminder on the application. Returns how many."""
    at = _now(now)
    rows = ApplicationMaterial.objects.select_related("application", "material").filter(
        status=MaterialStatus.MISSING,
        reminded_at__isnull=True,
        due_at__lte=at + dt.timedelta(days=1),
        application__status=Status.ACCEPTED,
    )
    count = 0
    for row in rows:
        row.reminded_at = at
        row.save(update_fields=["reminded_at"])
        APPLICATIONS.record(
            row.application,
            "remind",
            None,
            at=at,
            note=_("请于%(due)s前补交“%(name)s”。")
            % {"due": f"{cast(dt.datetime, row.due_at).astimezone(SHANGHAI):%Y-%m-%d}", "name": row.material.name},
        )
        count += 1
    return count


# --- anonymisation of finished applications (worker) ----------------------------------------

# The applicant's personal data copied onto an application: name, identity number (and its blind
# index), phone, the person who applied on their behalf and why, and the link to the registry.
ANONYMISED_FIELDS = ("applicant_name", "applicant_id", "applicant_phone", "assistant_name", "assisted_reason")


def anonymise_finished_applications(now: dt.datetime | None = None, *, batch_size: int = 200) -> dict[str, int]:
    """Erase the applicant's personal data — name, identity number (and its blind index), phone,
    the assistant's name and reason, the link to the registry record — from applications that
    finished (issued, rejected or refused) more than ``JIEDAO["ANONYMISE_AFTER_DAYS"]`` days ago
    (default 365, the cases' own), writing one ``anonymise`` event per application in the same
    transaction. An application is done once: a second run finds nothing.

    The resident's own account stays linked (their list of applications); item, unit, dates,
    visits, materials and ratings stay, and so the measures do not change.
    Returns ``{"anonymised": n}``."""
    at = _now(now)
    days = int(cast(int, settings.JIEDAO.get("ANONYMISE_AFTER_DAYS", 365)))
    cutoff = at - dt.timedelta(days=days)
    # Finished when the application moved into a final state: its last such event.
    finished = (
        Application.objects.filter(status__in=DONE_STATUSES, anonymised_at__isnull=True)
        .annotate(finished_at=Max("events__at", filter=Q(events__to_status__in=DONE_STATUSES)))
        .filter(finished_at__lt=cutoff)
    )
    anonymised = 0
    last = 0
    while True:
        ids = list(finished.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last = ids[-1]
        with transaction.atomic():
            for app in Application.objects.select_for_update().filter(pk__in=ids, anonymised_at__isnull=True):
                erased = [name for name in ANONYMISED_FIELDS if getattr(app, name)]
                if app.person_id is not None:
                    erased.append("person")
                for name in ANONYMISED_FIELDS:
                    setattr(app, name, "")
                app.applicant_id_index = ""
                app.person = None
                app.anonymised_at = at
                app.save(update_fields=[*ANONYMISED_FIELDS, "applicant_id_index", "person", "anonymised_at"])
                APPLICATIONS.record(app, "anonymise", None, at=at, data={"fields": erased, "after_days": days})
                anonymised += 1
    return {"anonymised": anonymised}


# --- the queue ----------------------------------------------------------------------------


@transaction.atomic
def take_ticket(group: str, *, priority: bool = False, now: dt.datetime | None = None) -> Ticket:
    """取号: the next number of the group today; priority for the elderly and disabled."""
    at = _now(now)
    if group not in Group.values:
        raise ValidationFailed("group", _("请选择业务类别。"))
    day = at.astimezone(SHANGHAI).date()
    last = Ticket.objects.select_for_update().filter(day=day, group=group).aggregate(m=Max("seq"))["m"] or 0
    seq = last + 1
    return Ticket.objects.create(
        day=day, group=group, seq=seq, number=f"{group}{seq:03d}", priority=bool(priority), taken_at=at
    )


@transaction.atomic
def call_next(user: User, *, window: str, groups: list[str] | None = None, now: dt.datetime | None = None) -> Ticket:
    """叫号: priority tickets first, then the longest waiting, of the window's groups."""
    permissions.require(user, "hall.queue")
    if not (window or "").strip():
        raise ValidationFailed("window", _("请填写窗口号。"))
    errors = FieldErrors()
    params.check_length(errors, "window", window.strip(), Ticket._meta.get_field("window"), _("窗口号"))
    errors.raise_if_any()
    at = _now(now)
    qs = Ticket.objects.select_for_update().filter(status=TicketStatus.WAITING, day=at.astimezone(SHANGHAI).date())
    if groups:
        qs = qs.filter(group__in=groups)
    ticket = qs.order_by("-priority", "taken_at", "id").first()
    if ticket is None:
        raise InvalidTransition(_("当前没有等候的号。"))
    checked = TICKETS.check(user, ticket, "call")
    ticket.window, ticket.clerk = window.strip(), user
    TICKETS.take(user, ticket, "call", at=at, checked=checked, save_fields=("window", "clerk"))
    return ticket


@transaction.atomic
def finish_ticket(user: User, *, ticket_id: int | str, missed: bool = False, now: dt.datetime | None = None) -> Ticket:
    """The called number has been served (办毕) or did not come (过号)."""
    permissions.require(user, "hall.queue")
    ticket = Ticket.objects.select_for_update().filter(pk=_id(ticket_id)).first()
    if ticket is None:
        raise NotFound()
    TICKETS.take(user, ticket, "miss" if missed else "finish", at=_now(now))
    return ticket


def apply_action(
    user, *, number: str, action: str, data: dict[str, Any], now: dt.datetime | None = None
) -> Application | Rating:
    """One entry for the actions of ``states.APPLICATIONS`` with plain input (API and pages). An
    action the lifecycle does not have is bad input (422 on ``action``)."""
    APPLICATIONS.get(action)
    note = (data.get("note") or "").strip()
    if action == "accept":
        return accept(user, number=number, now=now)
    if action == "refuse":
        return refuse(user, number=number, note=note, now=now)
    if action == "supply":
        return supply(
            user,
            number=number,
            material_id=data.get("material_id"),
            at_window=bool(data.get("at_window", True)),
            now=now,
        )
    if action == "approve":
        return approve(user, number=number, note=note, now=now)
    if action == "reject":
        return reject(user, number=number, note=note, now=now)
    if action == "issue":
        return issue(user, number=number, delivery=data.get("delivery") or Delivery.WINDOW, now=now)
    if action == "rate":
        return rate(
            user,
            number=number,
            level=data.get("level"),
            channel=data.get("channel") or RatingChannel.PORTAL,
            comment=note,
            token=data.get("token") or None,
            now=now,
        )
    raise AssertionError(f"{action} has no service")


# --- catalogue import ---------------------------------------------------------------------


def _choice(choices, value):
    """A choice by its code or its Chinese label."""
    text = str(value or "").strip()
    for code, label in choices.choices:
        if text in (str(code), str(label)):
            return code
    return None


def _flag(value):
    return str(value).strip() in ("是", "Y", "y", "yes", "true", "True", "1", "TRUE")


def _int(value, field, row, errors, minimum=0, default=None):
    if value in ("", None) and default is not None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(f"第{row}行 {field}", _("应为整数。"))
        return None
    if number < minimum:
        errors.add(f"第{row}行 {field}", _("不能小于 %(n)d。") % {"n": minimum})
    return number


@transaction.atomic
def import_catalogue(
    user: User, *, item_rows: list[dict[str, Any]], material_rows: list[dict[str, Any]]
) -> dict[str, int]:
    """All or nothing: every row is checked first; any error leaves the catalogue as it was.
    Items are matched by implementing code; an item's materials are replaced by those in
    the file when the file lists any for it. Returns counts."""
    permissions.require(user, "hall.import")
    errors = FieldErrors()
    units = {u.code: u for u in Unit.objects.all()}
    parsed, seen = [], set()
    for r in item_rows:
        row = r["row"]
        code = str(r.get("code", "")).strip()
        if not code:
            errors.add(f"第{row}行 code", _("实施编码不能为空。"))
        elif code in seen:
            errors.add(f"第{row}行 code", _("实施编码“%(code)s”重复。") % {"code": code})
        seen.add(code)
        if not str(r.get("name", "")).strip():
            errors.add(f"第{row}行 name", _("事项名称不能为空。"))
        item_type = _choice(ItemType, r.get("item_type"))
        if item_type is None:
            errors.add(f"第{row}行 item_type", _("事项类型无效。"))
        level = _choice(ExerciseLevel, r.get("level")) if r.get("level") else ExerciseLevel.STREET
        group = _choice(Group, r.get("group")) if r.get("group") else Group.GENERAL
        if level is None:
            errors.add(f"第{row}行 level", _("行使层级无效。"))
        if group is None:
            errors.add(f"第{row}行 group", _("取号分组无效。"))
        unit = units.get(str(r.get("unit", "")).strip())
        if unit is None:
            errors.add(f"第{row}行 unit", _("实施主体“%(code)s”不存在（请填单位编码）。") % {"code": r.get("unit", "")})
        statutory = _int(r.get("statutory_days"), "statutory_days", row, errors, 1)
        promised = _int(r.get("promised_days"), "promised_days", row, errors, 0)
        if statutory is not None and promised is not None and promised > statutory:
            errors.add(f"第{row}行 promised_days", _("承诺时限不能长于法定时限。"))
        depth = _int(r.get("online_depth"), "online_depth", row, errors, 1, default=OnlineDepth.PREVIEW)
        if depth is not None and depth not in OnlineDepth.values:
            errors.add(f"第{row}行 online_depth", _("网办深度应为1至4。"))
        parsed.append(
            {
                "code": code,
                "basic_code": str(r.get("basic_code", "")).strip(),
                "name": str(r.get("name", "")).strip(),
                "item_type": item_type,
                "level": level,
                "group": group,
                "unit": unit,
                "legal_basis": str(r.get("legal_basis", "")),
                "conditions": str(r.get("conditions", "")),
                "statutory_days": statutory,
                "promised_days": promised,
                "supply_days": _int(r.get("supply_days"), "supply_days", row, errors, 1, default=5),
                "fee": str(r.get("fee", "") or "不收费"),
                "fee_basis": str(r.get("fee_basis", "")),
                "place": str(r.get("place", "")),
                "hours": str(r.get("hours", "")),
                "online_depth": depth,
                "visits_required": _int(r.get("visits_required"), "visits_required", row, errors, 0, default=1),
                "appointment_allowed": _flag(r.get("appointment_allowed", "是")),
                "pledge_allowed": _flag(r.get("pledge_allowed", "")),
                "target_group": str(r.get("target_group", "") or "自然人"),
            }
        )
    known = seen | set(ServiceItem.objects.values_list("code", flat=True))
    materials: dict[str, list[dict[str, Any]]] = {}
    for r in material_rows:
        row = r["row"]
        code = str(r.get("item", "")).strip()
        if code not in known:
            errors.add(f"第{row}行 item", _("实施编码“%(code)s”不在事项表中。") % {"code": code})
        if not str(r.get("name", "")).strip():
            errors.add(f"第{row}行 name", _("材料名称不能为空。"))
        form = _choice(MaterialForm, r.get("form")) if r.get("form") else MaterialForm.ORIGINAL
        source = _choice(MaterialSource, r.get("source")) if r.get("source") else MaterialSource.APPLICANT
        if form is None:
            errors.add(f"第{row}行 form", _("材料形式无效。"))
        if source is None:
            errors.add(f"第{row}行 source", _("来源渠道无效。"))
        materials.setdefault(code, []).append(
            {
                "order": _int(r.get("order"), "order", row, errors, 0, default=len(materials.get(code, [])) + 1),
                "name": str(r.get("name", "")).strip(),
                "core": _flag(r.get("core", "是")),
                "form": form,
                "source": source,
                "copies": _int(r.get("copies"), "copies", row, errors, 1, default=1),
                "shared": _flag(r.get("shared", "")),
                "note": str(r.get("note", "")),
            }
        )
    if not parsed and not material_rows:
        errors.add("file", _("文件中没有事项。"))
    for code, rows in materials.items():
        names = {values["name"] for values in rows}
        used = (
            ApplicationMaterial.objects.filter(material__item__code=code)
            .exclude(material__name__in=names)
            .values_list("material__name", flat=True)
            .distinct()
        )
        for name in used:
            errors.add("file", _("事项%(code)s的材料“%(name)s”已有办件使用，不能删除。") % {"code": code, "name": name})
    errors.raise_if_any()
    created = updated = 0
    for values in parsed:
        code = values.pop("code")
        _item, was_created = ServiceItem.objects.update_or_create(code=code, defaults={**values, "active": True})
        created += was_created
        updated += not was_created
    count = 0
    for code, rows in materials.items():
        item = ServiceItem.objects.get(code=code)
        item.materials.exclude(name__in=[values["name"] for values in rows]).delete()
        for values in rows:
            Material.objects.update_or_create(item=item, name=values.pop("name"), defaults=values)
        count += len(rows)
    return {"created": created, "updated": updated, "materials": count}


# --- appointments -------------------------------------------------------------------------
#
# A resident books a half-hour slot of a day the hall is open, within the booking horizon
# (today and the next HALL_BOOKING_WORKDAYS working days), at most HALL_BOOKING_MAX_OPEN
# appointments not yet due at a time and one per item and day. The person's row is locked
# for the check and the insert, so parallel requests are counted one after the other. The
# slots and the limits are rules the selectors read too (``rules.py``).


def booking_window(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The first and the last day on which a slot may be booked (Shanghai dates)."""
    today = _now(now).astimezone(SHANGHAI).date()
    return today, add_workdays(today, booking_workdays())


def _bookable(starts_at, at):
    """The slot as an aware time, or a field error naming the allowed range. A time without
    a zone is Shanghai time. Compared before any conversion, so no year is out of range."""
    if not isinstance(starts_at, dt.datetime):
        raise ValidationFailed("starts_at", _("请选择预约时段。"))
    if timezone.is_naive(starts_at):
        starts_at = starts_at.replace(tzinfo=SHANGHAI)
    first, last = booking_window(at)
    last_end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, SHANGHAI)
    if not at < starts_at < last_end:
        raise ValidationFailed(
            "starts_at",
            _("预约时段须在 %(first)s 至 %(last)s 之间、尚未开始：只能预约今天起 %(days)d 个工作日内的时段。")
            % {"first": first.isoformat(), "last": last.isoformat(), "days": booking_workdays()},
        )
    local = starts_at.astimezone(SHANGHAI)
    if local not in slots_of(local.date()):
        raise ValidationFailed(
            "starts_at", _("预约时段须是便民服务中心开放日的办公时间内、整点或半点开始的半小时时段。")
        )
    return starts_at


@transaction.atomic
def book(user: User, *, item_code: str, starts_at: dt.datetime, now: dt.datetime | None = None) -> Appointment:
    permissions.require(user, "hall.book")
    at = _now(now)
    item, _b, _items = _items_of(item_code, "")
    if not item.appointment_allowed:
        raise ValidationFailed("item", _("该事项不支持预约。"))
    starts_at = _bookable(starts_at, at)
    # The person's bookings are counted and written one request at a time (on SQLite the
    # transaction holds the write lock from its start anyway).
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    mine = Appointment.objects.filter(user=user, state=Appointment.State.BOOKED, starts_at__gt=at)
    if mine.count() >= booking_max_open():
        raise InvalidTransition(
            _("您已有 %(n)d 个尚未到时的预约，最多同时保留 %(n)d 个：请先办理或取消其中一个再预约。")
            % {"n": booking_max_open()}
        )
    day = starts_at.astimezone(SHANGHAI).date()
    day_start = dt.datetime.combine(day, dt.time.min, SHANGHAI)
    if mine.filter(item=item, starts_at__gte=day_start, starts_at__lt=day_start + dt.timedelta(days=1)).exists():
        raise InvalidTransition(
            _("您已预约 %(day)s 办理“%(item)s”，同一事项每天只能预约一次。")
            % {"day": day.isoformat(), "item": item.name}
        )
    # The slot's bookings are counted and written one request at a time, whoever books.
    locks.hold(f"hall-slot:{int(starts_at.timestamp())}")
    taken = Appointment.objects.filter(starts_at=starts_at, state=Appointment.State.BOOKED)
    if taken.count() >= slot_capacity():
        raise InvalidTransition(_("该时段已约满，请选择其他时段。"))
    if taken.filter(user=user).exists():
        raise InvalidTransition(_("您已预约该时段。"))
    return Appointment.objects.create(item=item, user=user, starts_at=starts_at, created_at=at)


@transaction.atomic
def cancel_appointment(user: User, *, appointment_id: int | str, now: dt.datetime | None = None) -> Appointment:
    """One's own appointment, before its slot starts."""
    permissions.require(user, "hall.cancel_booking")
    appointment = Appointment.objects.select_for_update().filter(pk=_id(appointment_id), user=user).first()
    if appointment is None:
        raise NotFound()
    checked = APPOINTMENTS.check(user, appointment, "cancel")
    if appointment.starts_at <= _now(now):
        raise InvalidTransition(_("该预约不能取消。"))
    APPOINTMENTS.take(user, appointment, "cancel", at=_now(now), checked=checked)
    return appointment
