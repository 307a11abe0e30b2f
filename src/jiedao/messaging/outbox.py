"""The outbox: messages that leave the site, written with the notification and sent by the
worker.

- ``messages_for`` turns notifications into outbox rows by the delivery rules (``DeliveryRule``):
  e-mail to a person's address, SMS to a person's mobile, a unit's group robot (``UnitChannel``);
  ``services.notify`` inserts them in the caller's transaction, so a change that is rolled back
  sends nothing. Nothing is sent inside the request.
- ``send_due`` (the worker's job ``messaging.send_outbox``) claims the due messages — on
  PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``, so several workers share the queue; on
  SQLite the claim's transaction holds the database's one write lock — marks them "sending" for
  a lease, sends each through its channel outside any transaction — up to
  ``OUTBOX_CONCURRENCY`` at once, in a bounded pool of threads — and records the attempt
  (``OutboxAttempt``, append-only) with the message's new state in one transaction, from the
  claiming thread.
- A failure the provider says may pass is tried again after 1, 2, 4, 8 … minutes
  (``OUTBOX_BACKOFF_SECONDS`` doubled, at most ``OUTBOX_BACKOFF_MAX_SECONDS``), up to
  ``OUTBOX_ATTEMPTS`` attempts; one it says will not pass fails at once.
- A message still "sending" when its lease (``OUTBOX_LEASE_SECONDS``) ends was left by a worker
  that died: it is claimed again. Its key is the provider's dedup id (an e-mail's Message-ID),
  so a provider that keeps them drops the second copy.
- What a message says is its kind's template (``MessageTemplate``, else ``wording``'s text); a
  message that is not urgent waits for the end of the quiet hours (``QUIET_HOURS``), and one to an
  address that already had ``DIGEST_AFTER`` messages of the channel within ``DIGEST_MINUTES`` is
  held: the held messages of an address are sent as one digest when the window ends. A person's
  channel choices (``ChannelPreference``) and a resident's 退订 (``ResidentContact``) are honoured.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jiedao.common.crypto import blind_index
from jiedao.common.lifecycle import update_status
from jiedao.org.models import User

from . import wording
from .channels import Outgoing, Sent, UnknownChannel, channel
from .channels.transport import mainland_mobile
from .models import (
    ChannelPreference,
    DeliveryRule,
    MessageTemplate,
    Notification,
    OutboxAttempt,
    OutboxMessage,
    ResidentContact,
    UnitChannel,
)

logger = logging.getLogger("jiedao.worker")

State = OutboxMessage.State
ROBOTS = ("wecom", "dingtalk")
SMS = ("sms_http", "sms_tencent")
SUBJECT_LENGTH = 60


def _setting(name: str, default: float) -> float:
    return cast(float, settings.JIEDAO.get(name, default))


def max_attempts() -> int:
    return int(_setting("OUTBOX_ATTEMPTS", 8))


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("OUTBOX_LEASE_SECONDS", 300))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2×base, 4×base …, capped."""
    base = _setting("OUTBOX_BACKOFF_SECONDS", 60)
    cap = _setting("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def new_key() -> str:
    return uuid.uuid4().hex


# --- writing: notifications → outbox rows ---------------------------------------------------------

# The enabled rules by kind, read once per process and again after RULES_TTL (another process's
# change) or at once after a save or delete in this one (``forget_rules``, connected in the
# app's ``ready``): ``notify`` runs on every intake, which should not read the table each time.
RULES_TTL = 10.0
_rules: dict[str, object] = {}


def forget_rules(**kwargs) -> None:
    _rules.clear()


def _load() -> None:
    loaded_at = cast(float, _rules.get("at", 0.0))
    if "by_kind" in _rules and time.monotonic() - loaded_at < RULES_TTL:
        return
    by_kind: dict[str, list[tuple[str, bool, bool]]] = {}
    for rule_kind, code, members, person in DeliveryRule.objects.filter(enabled=True).values_list(
        "kind", "channel", "to_members", "to_person"
    ):
        by_kind.setdefault(rule_kind, []).append((code, members, person))
    templates = {
        kind: (text, sms_id, urgent)
        for kind, text, sms_id, urgent in MessageTemplate.objects.values_list(
            "kind", "text", "sms_template_id", "urgent"
        )
    }
    _rules.clear()
    _rules.update(by_kind=by_kind, templates=templates, at=time.monotonic())


def rules_for(kind: str) -> list[tuple[str, bool, bool]]:
    """(channel, to_members, to_person) of the enabled rules of ``kind``."""
    _load()
    return cast(dict[str, list[tuple[str, bool, bool]]], _rules["by_kind"]).get(kind, [])


def template_for(kind: str) -> tuple[str, str, bool]:
    """(text, SMS template id, urgent) of ``kind``: the administrator's template, else the
    kind's own wording."""
    _load()
    saved = cast(dict[str, tuple[str, str, bool]], _rules["templates"]).get(kind)
    if saved is not None:
        return saved
    own = wording.kind_of(kind)
    return own.text, "", own.urgent


# --- quiet hours and digests ----------------------------------------------------------------------


def _clock(text: str) -> dt.time:
    hours, minutes = text.strip().split(":")
    return dt.time(int(hours), int(minutes))


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    """(start, end) of the quiet hours in local time, or None (``QUIET_HOURS`` empty or unreadable)."""
    text = str(settings.JIEDAO.get("QUIET_HOURS") or "").strip()
    if "-" not in text:
        return None
    try:
        start, end = (_clock(part) for part in text.split("-", 1))
    except ValueError:
        return None
    return (start, end) if start != end else None


def quiet_until(at: dt.datetime) -> dt.datetime | None:
    """When the quiet hours around ``at`` end, or None when ``at`` is not in them."""
    window = quiet_hours()
    if window is None:
        return None
    start, end = window
    local = timezone.localtime(at)
    now = local.time()
    inside = (start <= now or now < end) if start > end else (start <= now < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += dt.timedelta(days=1)
    return ends


def _hold(rows: list[OutboxMessage], at: dt.datetime) -> None:
    """Put off what is not urgent: to the end of the quiet hours, and into a digest when its
    address already had ``DIGEST_AFTER`` messages of the channel within ``DIGEST_MINUTES``."""
    calm = [row for row in rows if not template_for(row.kind)[2] and row.channel != "open311"]
    if not calm:
        return
    later = quiet_until(at)
    after = int(_setting("DIGEST_AFTER", 0))
    window = dt.timedelta(minutes=_setting("DIGEST_MINUTES", 10))
    if after > 0:
        addresses = {row.address for row in calm}
        recent: dict[tuple[str, str], int] = {}
        held_until: dict[tuple[str, str], dt.datetime] = {}
        for code, address, held, due in OutboxMessage.objects.filter(
            address__in=addresses, created_at__gte=at - window, merged_into__isnull=True
        ).values_list("channel", "address", "held", "next_attempt_at"):
            recent[(code, address)] = recent.get((code, address), 0) + 1
            if held and due is not None:
                held_until[(code, address)] = due
        for row in calm:
            pair = (row.channel, row.address)
            recent[pair] = recent.get(pair, 0) + 1
            if recent[pair] > after:
                row.held = True
                row.next_attempt_at = held_until.setdefault(pair, max(at + window, later or at))
    if later is not None:
        for row in calm:
            if not row.held:
                row.next_attempt_at = later


def _text(kind: str, message: str, link: str, at: dt.datetime, extra: dict | None = None) -> tuple[str, str, list]:
    """(text, SMS template id, parameters) of a message of ``kind``."""
    template, sms_id, _urgent = template_for(kind)
    values: dict[str, object] = {
        "消息": message,
        "链接": link,
        "时间": timezone.localtime(at).strftime("%m月%d日 %H:%M"),
    }
    values.update(extra or {})
    return wording.render(template, values), sms_id, wording.parameters(template, values)


def muted(user_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(person, channel) pairs the persons switched off."""
    ids = set(user_ids)
    if not ids:
        return set()
    return set(ChannelPreference.objects.filter(user_id__in=ids, enabled=False).values_list("user_id", "channel"))


def ready_channels(codes: Iterable[str]) -> set[str]:
    """The codes among ``codes`` whose channel loads and is configured — remembered with the
    rules (``notify`` asks on every intake): a changed setting counts after ``forget_rules``
    (connected to Django's ``setting_changed``) or a restart."""
    _load()
    known = cast(dict[str, bool], _rules.setdefault("ready", {}))
    wanted = set(codes)
    for code in wanted - set(known):
        try:
            known[code] = not channel(code).check()
        except UnknownChannel:
            known[code] = False
    return {code for code in wanted if known[code]}


def _link(path: str) -> str:
    if not path:
        return ""
    base = cast(str, settings.JIEDAO.get("OUTBOX_SITE_URL", ""))
    return base + path if path.startswith("/") else path


def _address(code: str, person: User) -> str:
    if code == "email":
        return (person.email or "").strip()
    if code in SMS:
        return (person.phone or "").strip()
    return ""


def messages_for(notifications: list[Notification], *, users: dict[int, User] | None = None) -> list[OutboxMessage]:
    """The outbox rows the delivery rules ask for these notifications (all of one ``kind``), not
    yet saved. ``users``: the persons already loaded, by id."""
    if not notifications:
        return []
    kind = notifications[0].kind
    rules = rules_for(kind)
    if not rules:
        return []
    ready = ready_channels(code for code, _m, _p in rules)
    to_members = [code for code, members, _p in rules if members and code in ready]
    to_person = [code for code, _m, person in rules if person and code in ready]
    if not (to_members or to_person):
        return []
    known = dict(users or {})
    person_ids = {n.user_id for n in notifications if n.user_id is not None} if to_person else set()
    unit_ids = {n.unit_id for n in notifications if n.unit_id is not None} if to_members else set()
    missing = person_ids - set(known)
    if missing:
        known.update({u.pk: u for u in User.objects.filter(pk__in=missing, is_active=True)})
    members: dict[int, list[User]] = {}
    if unit_ids and any(code not in ROBOTS for code in to_members):
        for member in User.objects.filter(unit_id__in=unit_ids, is_active=True).order_by("pk"):
            members.setdefault(cast(int, member.unit_id), []).append(member)
    groups: dict[tuple[int, str], str] = {}
    robot_codes = {code for code in to_members + to_person if code in ROBOTS}
    if robot_codes:
        wanted_units = unit_ids | {cast(int, known[p].unit_id) for p in person_ids if p in known and known[p].unit_id}
        for unit_id, code, robot in UnitChannel.objects.filter(
            unit_id__in=wanted_units, channel__in=robot_codes, enabled=True
        ).values_list("unit_id", "channel", "robot"):
            groups[(unit_id, code)] = robot

    member_ids = {m.pk for people in members.values() for m in people}
    off = muted(member_ids | {p for p in person_ids if p in known})
    rows: list[OutboxMessage] = []
    seen: set[tuple[str, str]] = set()

    def add(note: Notification, code: str, address: str, mentions: tuple[str, ...] = (), person: int = 0):
        if not address or (code, address) in seen or (person, code) in off:
            return
        seen.add((code, address))
        link = _link(note.link)
        text, sms_id, params = _text(kind, note.message, link, note.created_at)
        if code in SMS and link and link not in text:
            text = f"{text} {link}"
        rows.append(
            OutboxMessage(
                channel=code,
                address=address[:254],
                subject=note.message[:SUBJECT_LENGTH],
                text=text,
                link=link,
                mentions=list(mentions),
                template=sms_id,
                params=params,
                key=new_key(),
                notification=note,
                kind=kind,
                state=State.QUEUED,
                next_attempt_at=note.created_at,
                created_at=note.created_at,
            )
        )

    for note in notifications:
        if note.unit_id is not None:
            for code in to_members:
                if code in ROBOTS:
                    add(note, code, groups.get((note.unit_id, code), ""))
                else:
                    for member in members.get(note.unit_id, ()):
                        add(note, code, _address(code, member), person=member.pk)
        if note.user_id is not None and note.user_id in known:
            person = known[note.user_id]
            for code in to_person:
                if code in ROBOTS:
                    phone = (person.phone or "").strip()
                    add(note, code, groups.get((cast(int, person.unit_id), code), ""), (phone,) if phone else ())
                else:
                    add(note, code, _address(code, person), person=person.pk)
    if rows:
        _hold(rows, notifications[0].created_at)
    return rows


# --- residents: messages to a mobile number ---------------------------------------------------------


def contact(phone: str, *, at: dt.datetime | None = None) -> ResidentContact:
    """The resident's contact row of ``phone`` (a mainland mobile), made on first use with the
    short code of their 退订 link."""
    index = blind_index(phone)
    found = ResidentContact.objects.filter(phone_index=index).first()
    if found is not None:
        return found
    code = blind_index("unsubscribe:" + phone)[:10]
    ResidentContact.objects.bulk_create(
        [ResidentContact(phone_index=index, code=code, created_at=at or timezone.now())], ignore_conflicts=True
    )
    return ResidentContact.objects.get(phone_index=index)


def unsubscribe_link(code: str) -> str:
    return _link(f"/m/t/{code}/")


def resident_message(
    *, kind: str, phone: str, values: dict[str, object], link: str = "", at: dt.datetime | None = None
) -> OutboxMessage | None:
    """The SMS to a resident of ``kind`` (its template filled with ``values``), not yet saved; None
    when no SMS rule of the kind is on with a configured channel, the number is not a mainland
    mobile, or the resident has opted out (退订)."""
    mobile = mainland_mobile(phone or "")
    if not mobile:
        return None
    ready = ready_channels(code for code, _m, person in rules_for(kind) if person and code in SMS)
    if not ready:
        return None
    code = next(c for c in SMS if c in ready)  # one SMS, through the first configured gateway
    now = at or timezone.now()
    person = contact(mobile, at=now)
    if person.opted_out_at is not None:
        return None
    full = dict(values, 链接=_link(link), 退订链接=unsubscribe_link(person.code))
    text, sms_id, params = _text(kind, "", full["链接"], now, full)
    message = OutboxMessage(
        channel=code,
        address=mobile,
        subject=text[:SUBJECT_LENGTH],
        text=text,
        link=full["链接"],
        template=sms_id,
        params=params,
        key=new_key(),
        kind=kind,
        state=State.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )
    _hold([message], now)
    return message


# --- sending --------------------------------------------------------------------------------------


def claim(*, now: dt.datetime, limit: int = 20) -> list[OutboxMessage]:
    """Mark up to ``limit`` due messages "sending" under a lease ending ``now`` + the lease and
    return them: queued messages whose time has come, and messages whose sender's lease ran out.
    Two workers never claim the same message."""
    lease_until = now + lease()
    with transaction.atomic():
        due = OutboxMessage.objects.filter(state__in=(State.QUEUED, State.SENDING), next_attempt_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
        if ids:
            update_status(OutboxMessage.objects.filter(pk__in=ids), State.SENDING, "state", next_attempt_at=lease_until)
    return list(
        OutboxMessage.objects.filter(pk__in=ids, state=State.SENDING, next_attempt_at=lease_until).order_by("id")
    )


def _outgoing(message: OutboxMessage) -> Outgoing:
    return Outgoing(
        key=message.key,
        address=message.address,
        text=message.text,
        subject=message.subject,
        link=message.link,
        mentions=tuple(str(m) for m in message.mentions or ()),
        template=message.template,
        params=tuple(str(p) for p in message.params or ()),
    )


def _send(message: OutboxMessage, outgoing: Outgoing | None = None) -> Sent:
    try:
        way = channel(message.channel)
    except UnknownChannel:
        return Sent(ok=False, code="channel", answer=_("该发送渠道未安装。"), retry=False)
    problems = way.check()
    if problems:
        return Sent(ok=False, code="config", answer=" ".join(str(p) for p in problems)[:500], retry=False)
    try:
        return way.send(outgoing or _outgoing(message))
    except Exception as error:  # a channel's own fault: tried again, and shown with its words
        logger.exception("outbox channel %s", message.channel)
        return Sent(ok=False, code="error", answer=f"{error.__class__.__name__}: {error}"[:500], retry=True)


def concurrency() -> int:
    """How many messages are in flight with their providers at once (``OUTBOX_CONCURRENCY``)."""
    return max(1, int(_setting("OUTBOX_CONCURRENCY", 16)))


# A claimed message to send, with the held messages of its address that go with it as a digest.
Bundle = tuple[OutboxMessage, list[OutboxMessage], Outgoing]


def bundle(batch: list[OutboxMessage]) -> list[Bundle]:
    """The claimed messages as sends: each message alone, except the held ones of one channel and
    address, which go as one digest ("您有N条新消息：1. … 2. …") carried by the first."""
    sends: list[Bundle] = []
    digests: dict[tuple[str, str], list[OutboxMessage]] = {}
    for message in batch:
        if message.held:
            digests.setdefault((message.channel, message.address), []).append(message)
        else:
            sends.append((message, [], _outgoing(message)))
    for group in digests.values():
        first = group[0]
        if len(group) == 1:
            sends.append((first, [], _outgoing(first)))
            continue
        items = "；".join(f"{n}. {m.subject or m.text[:SUBJECT_LENGTH]}" for n, m in enumerate(group, 1))
        text, sms_id, params = _text("digest", "", "", first.created_at, {"条数": len(group), "内容": items})
        outgoing = Outgoing(
            key=first.key,
            address=first.address,
            text=text,
            subject=_("您有%(n)d条新消息") % {"n": len(group)},
            link=_link("/notifications/"),
            template=sms_id,
            params=tuple(params),
        )
        sends.append((first, group[1:], outgoing))
    return sends


def send_one(message: OutboxMessage, *, now: dt.datetime | None = None) -> str:
    """Send one claimed message and record the attempt; "sent", "retry" or "failed"."""
    started = time.monotonic()
    result = _send(message)
    return record(message, result=result, duration_ms=int((time.monotonic() - started) * 1000), now=now)


def record(
    message: OutboxMessage,
    *,
    result: Sent,
    duration_ms: int,
    now: dt.datetime | None = None,
    riders: list[OutboxMessage] | None = None,
) -> str:
    """Record one attempt of a claimed message and its new state in one short transaction;
    "sent", "retry" or "failed". ``riders``: the held messages it carried as a digest, which share
    its fate (sent: merged into it)."""
    at = now or timezone.now()
    attempts = message.attempts + 1
    fields: dict = {
        "attempts": F("attempts") + 1,
        "last_code": str(result.code or "")[:40],
        "last_answer": str(result.answer or "")[:500],
    }
    if result.ok:
        outcome = "sent"
        state = State.DELIVERED if result.extra.get("delivered") else State.SENT
        fields.update(sent_at=at, next_attempt_at=None, provider_id=str(result.provider_id or "")[:200])
    elif not result.retry or attempts >= max_attempts():
        outcome, state = "failed", State.FAILED
        fields.update(failed_at=at, next_attempt_at=None)
    else:
        outcome, state = "retry", State.QUEUED
        fields.update(next_attempt_at=at + backoff(attempts))
    with transaction.atomic():
        for one in [message, *(riders or [])]:
            OutboxAttempt.objects.create(
                message=one,
                at=at,
                ok=result.ok,
                code=fields["last_code"],
                answer=fields["last_answer"],
                duration_ms=duration_ms,
            )
            extra = {"merged_into": message} if one is not message and result.ok else {}
            # Only while this sender's lease holds: a message taken up again by another worker is theirs.
            update_status(
                OutboxMessage.objects.filter(pk=one.pk, state=State.SENDING, next_attempt_at=one.next_attempt_at),
                state,
                "state",
                **fields,
                **extra,
            )
    return outcome


def _timed_send(message: OutboxMessage, outgoing: Outgoing, language: str | None) -> tuple[Sent, int]:
    """``_send`` in a pool thread: in the caller's language, and without keeping a database
    connection of the thread's own (channels call providers, not the database)."""
    started = time.monotonic()
    try:
        with translation.override(language):
            result = _send(message, outgoing)
    finally:
        connection.close()
    return result, int((time.monotonic() - started) * 1000)


def send_due(*, now: dt.datetime | None = None, limit: int = 2000, budget_seconds: float = 20.0) -> dict[str, int]:
    """Send the messages that are due, oldest first, within a time budget. Returns counts of
    "sent", "retry" and "failed" (a digest counts once per message it carries). ``now``: the clock
    of this round (the tests pass one).

    Up to ``concurrency()`` messages are with their providers at once, each in a thread of a
    bounded pool and outside any transaction; this thread claims them and records each result
    in its own short transaction, so that every write stays in one thread (SQLite has one
    writer). Claimed messages not yet sent wait under their lease like any other."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    started = time.monotonic()
    width = concurrency()
    if width == 1:
        done = 0
        while done < limit and time.monotonic() - started < budget_seconds:
            batch = claim(now=now or timezone.now(), limit=min(20, limit - done))
            if not batch:
                break
            for message, riders, outgoing in bundle(batch):
                begun = time.monotonic()
                result = _send(message, outgoing)
                took = int((time.monotonic() - begun) * 1000)
                counts[record(message, result=result, duration_ms=took, now=now, riders=riders)] += 1 + len(riders)
            done += len(batch)
        return counts
    language = translation.get_language()
    claimed = 0
    drained = False
    in_flight: dict[Future[tuple[Sent, int]], tuple[OutboxMessage, list[OutboxMessage]]] = {}
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="outbox") as pool:
        while True:
            # Keep the pool busy: claim more while fewer than twice its width are in hand.
            if not drained and claimed < limit and time.monotonic() - started < budget_seconds:
                room = min(2 * width - len(in_flight), limit - claimed)
                if room >= width or (room > 0 and not in_flight):
                    batch = claim(now=now or timezone.now(), limit=room)
                    drained = len(batch) < room
                    claimed += len(batch)
                    for message, riders, outgoing in bundle(batch):
                        in_flight[pool.submit(_timed_send, message, outgoing, language)] = (message, riders)
            if not in_flight:
                break
            finished, _pending = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                message, riders = in_flight.pop(future)
                result, duration_ms = future.result()
                outcome = record(message, result=result, duration_ms=duration_ms, now=now, riders=riders)
                counts[outcome] += 1 + len(riders)
    return counts


def describe(counts: dict) -> str:
    return _("消息发送：已发送 %(sent)d，待重试 %(retry)d，失败 %(failed)d。") % {
        "sent": counts.get("sent", 0),
        "retry": counts.get("retry", 0),
        "failed": counts.get("failed", 0),
    }
