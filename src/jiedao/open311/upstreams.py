"""与市/区平台对接: this street as an Open311 client of the district or city platform it works for.

- **Pull** (``sync``, the worker's job ``open311.sync_upstreams``): ``GET {base}/requests.json``
  with the platform's key, our ``jurisdiction_id`` and the window since the last sync; each request
  becomes a case on the 12345 channel through the normal intake (``cases.services.submit_case``),
  kept with the platform's ``service_request_id`` in ``UpstreamCase`` — a request pulled again
  changes nothing. What went wrong (no answer, a refused key, an answer that is no request list, a
  request without its fields) is written in Chinese on the platform's ``last_result``; the other
  requests are still taken in.
- **Push** (``queue_update``, connected to ``cases.hooks.case_event_written``): when a pulled case
  is accepted (响应), gets a progress note, a result (办结反馈), is returned (退单) or closed, one
  outbox row (channel ``open311``) is written in the transaction of the case's event; the outbox
  sends it with its retries through ``post_update`` below, with the row's key as ``update_id``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jiedao.cases import services as case_services
from jiedao.cases.models import Case, CaseEvent, Category, Channel, Status
from jiedao.cases.states import action_label
from jiedao.common.errors import DomainError, ValidationFailed
from jiedao.messaging.channels.base import Outgoing, Sent
from jiedao.messaging.channels.transport import Reply, call, http_retry, scrub
from jiedao.messaging.models import OutboxMessage
from jiedao.messaging.outbox import new_key
from jiedao.org.models import User

from . import statuses
from .accounts import service_account
from .formats import iso
from .models import Upstream, UpstreamCase

logger = logging.getLogger("jiedao.open311")

CHANNEL = "open311"
# The role of an upstream's service account: it registers the pulled cases on the 12345 channel.
INTAKE_ROLE = "operator"
# A pull asks again this far before the end of the last window: a request the platform committed
# late is not missed (those already pulled are skipped).
OVERLAP = dt.timedelta(minutes=10)
# GeoReport v2 servers answer at most 90 days at once.
WINDOW = dt.timedelta(days=90) - dt.timedelta(minutes=1)
PAGE_SIZE = 200
MAX_PAGES = 50
TIMEOUT = 10.0
MAX_ID = 100
MAX_ADDRESS = 200
MAX_DESCRIPTION = 2000
MAX_RESULT_LINES = 20

# The steps sent back, and what the platform is told (besides the step's own words).
PUSHED_ACTIONS = ("respond", "note", "resolve", "self_resolve", "return", "close", "rate")


# --- configuration --------------------------------------------------------------------------------


def _service_account(name: str) -> User:
    return service_account(_("上级平台：%(name)s") % {"name": name}, prefix="upstream", role=INTAKE_ROLE)


@transaction.atomic
def save_upstream(upstream: Upstream) -> Upstream:
    """Create or change an upstream platform (the admin's form has checked the fields); a new one
    gets the service account its pulled cases are registered by."""
    upstream.name = upstream.name.strip()
    upstream.base_url = upstream.base_url.strip().rstrip("/")
    if upstream.interval_minutes < 1:
        raise ValidationFailed("interval_minutes", _("同步间隔至少为1分钟。"))
    if upstream.user_id is None:
        upstream.user = _service_account(upstream.name)
    upstream.save()
    return upstream


def _url(upstream: Upstream, path: str, query: dict[str, str] | None = None) -> str:
    url = f"{upstream.base_url.rstrip('/')}/{path}"
    return url + ("?" + urllib.parse.urlencode(query) if query else "")


# --- pull -------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What one pull did: the cases made, the requests already here, and the problems in Chinese
    (``failed``: the list itself could not be read; nothing was taken in and the window stays)."""

    created: list[str] = field(default_factory=list)
    existing: int = 0
    problems: list[str] = field(default_factory=list)
    failed: bool = False

    def summary(self) -> str:
        if self.failed:
            head = _("同步失败：%(problem)s") % {"problem": self.problems[0] if self.problems else ""}
            return head
        head = _("同步完成：新建工单 %(created)d 件，已存在 %(existing)d 件，有问题 %(bad)d 条。") % {
            "created": len(self.created),
            "existing": self.existing,
            "bad": len(self.problems),
        }
        lines = [head, *self.problems[:MAX_RESULT_LINES]]
        if len(self.problems) > MAX_RESULT_LINES:
            lines.append(_("……另有 %(n)d 条问题未列出。") % {"n": len(self.problems) - MAX_RESULT_LINES})
        return "\n".join(lines)


class _Refused(Exception):
    """The list could not be read; the message says why, in Chinese."""


def _fetch(upstream: Upstream, query: dict[str, str], *, timeout: float) -> list[Any]:
    reply = call(_url(upstream, "requests.json", query), method="GET", timeout=timeout)
    key = upstream.api_key
    if not reply.answered:
        raise _Refused(_("无法连接上级平台（%(error)s），请检查接口地址和网络。") % {"error": scrub(reply.error, key)})
    if reply.status in (401, 403):
        raise _Refused(
            _("上级平台拒绝了接口密钥（HTTP %(status)s），请在管理后台核对接口密钥。") % {"status": reply.status}
        )
    if reply.status == 404:
        raise _Refused(
            _("上级平台答复 HTTP 404：接口地址或辖区代码不对。%(body)s") % {"body": scrub(reply.excerpt(), key)}
        )
    if reply.status != 200:
        raise _Refused(
            _("上级平台答复 HTTP %(status)s：%(body)s") % {"status": reply.status, "body": scrub(reply.excerpt(), key)}
        )
    try:
        data = json.loads(reply.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, list):
        raise _Refused(
            _("上级平台的答复不是 GeoReport v2 的请求列表（JSON 数组）：%(body)s")
            % {"body": scrub(reply.excerpt(), key)[:200]}
        )
    return data


def _window(upstream: Upstream, now: dt.datetime) -> dict[str, str]:
    if upstream.last_synced_at is None:
        return {}  # the server's default: the last 90 days
    start = max(upstream.last_synced_at - OVERLAP, now - WINDOW)
    return {"start_date": iso(start), "end_date": iso(now)}


def _text(item: dict, name: str) -> str:
    value = item.get(name)
    return "" if value is None else str(value).strip()


def parse_when(value: str) -> dt.datetime | None:
    """An ISO 8601 time as platforms write it (``Z`` or an offset; none: Beijing time), or None."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    return parsed


def _point(item: dict) -> tuple[float | None, float | None, str]:
    """(lat, lng, problem): both or neither; a value that is no number is a problem."""
    lat, lng = item.get("lat"), item.get("long")
    if lat in (None, "") or lng in (None, ""):
        return None, None, ""
    try:
        return float(cast(Any, lat)), float(cast(Any, lng)), ""
    except (TypeError, ValueError):
        return None, None, _("lat/long 不是数字")


def _category_code(code: str) -> str:
    """Our leaf category with the platform's service code, or "" (the dispatcher classifies)."""
    if not code:
        return ""
    category = Category.objects.filter(code=code, active=True).first()
    if category is None or category.children.filter(active=True).exists():
        return ""
    return category.code


def _take_in(upstream: Upstream, item: Any, result: SyncResult, now: dt.datetime) -> None:
    """One request of the list: a new case, or nothing when it is here already or unusable."""
    if not isinstance(item, dict):
        result.problems.append(_("列表中有一项不是请求对象，已跳过。"))
        return
    number = _text(item, "service_request_id")
    if not number:
        result.problems.append(_("有一条请求缺少 service_request_id，已跳过。"))
        return
    if len(number) > MAX_ID:
        result.problems.append(_("请求编号过长（最多100个字符），已跳过。"))
        return
    if UpstreamCase.objects.filter(upstream=upstream, request_id=number).exists():
        result.existing += 1
        return
    missing = []
    description = _text(item, "description") or _text(item, "service_name")
    if not description:
        missing.append("description")
    requested = parse_when(_text(item, "requested_datetime"))
    if requested is None:
        missing.append("requested_datetime")
    lat, lng, bad_point = _point(item)
    if missing or bad_point:
        reasons = [_("缺少 %(fields)s") % {"fields": "、".join(missing)}] if missing else []
        if bad_point:
            reasons.append(bad_point)
        result.problems.append(
            _("请求 %(id)s：%(reasons)s，未建工单。") % {"id": number, "reasons": "；".join(reasons)}
        )
        return
    requested = min(cast(dt.datetime, requested), now)
    marker = _("【%(platform)s工单号】%(id)s") % {"platform": upstream.name, "id": number}
    values = {
        "channel": Channel.HOTLINE_12345,
        "description": (description[: MAX_DESCRIPTION - len(marker) - 1] + "\n" + marker),
        "address": _text(item, "address")[:MAX_ADDRESS],
        "lat": lat,
        "lng": lng,
        "category_code": _category_code(_text(item, "service_code")),
        "at": requested,
    }
    try:
        with transaction.atomic():
            try:
                case, _created = case_services.submit_case(
                    upstream.user, dispatch=upstream.auto_dispatch and bool(values["category_code"]), **values
                )
            except ValidationFailed as exc:
                # Nothing routes the case: it waits for the dispatcher instead of failing.
                if not upstream.auto_dispatch or {e["field"] for e in exc.errors} != {"unit"}:
                    raise
                case, _created = case_services.submit_case(upstream.user, dispatch=False, **values)
            UpstreamCase.objects.create(upstream=upstream, request_id=number, case=case)
    except DomainError as exc:  # a rule of the intake refused it (a field, the service account's role)
        words = str(getattr(exc, "message", "") or exc)
        result.problems.append(_("请求 %(id)s：%(reasons)s，未建工单。") % {"id": number, "reasons": words})
        return
    except IntegrityError:  # another pull took it in at the same moment
        result.existing += 1
        return
    result.created.append(case.number)


def sync(upstream: Upstream, *, now: dt.datetime | None = None, timeout: float = TIMEOUT) -> SyncResult:
    """Pull the platform's new requests into cases, page after page, and record the outcome on
    the platform (``last_run_at``, ``last_ok``, ``last_result``; ``last_synced_at`` moves on only
    when every page was read and every request taken in or found unusable)."""
    # What is written (the result, the line naming the platform's id) is in the site's language,
    # whoever started the pull.
    with translation.override(settings.LANGUAGE_CODE):
        return _sync(upstream, now=now, timeout=timeout)


def _sync(upstream: Upstream, *, now: dt.datetime | None, timeout: float) -> SyncResult:
    now = now or timezone.now()
    result = SyncResult()
    query = {"api_key": upstream.api_key, "page_size": str(PAGE_SIZE)}
    if upstream.jurisdiction_id:
        query["jurisdiction_id"] = upstream.jurisdiction_id
    query.update(_window(upstream, now))
    complete = False
    try:
        for page in range(1, MAX_PAGES + 1):
            items = _fetch(upstream, {**query, "page": str(page)}, timeout=timeout)
            for item in items:
                _take_in(upstream, item, result, now)
            if len(items) < PAGE_SIZE:
                complete = True
                break
    except _Refused as refused:
        result.problems.insert(0, str(refused))
        result.failed = True
    except Exception as error:  # the worker must go on; the operator is told
        logger.exception("upstream sync %s", upstream.pk)
        result.problems.insert(0, _("同步中断：%(error)s") % {"error": error.__class__.__name__})
        result.failed = True
    fields: dict[str, Any] = {
        "last_run_at": now,
        "last_ok": not result.failed and not result.problems,
        "last_result": result.summary(),
    }
    if complete and not result.failed:
        fields["last_synced_at"] = now
    Upstream.objects.filter(pk=upstream.pk).update(**fields)
    for name, value in fields.items():
        setattr(upstream, name, value)
    return result


def due_upstreams(now: dt.datetime | None = None) -> list[Upstream]:
    """The enabled platforms whose interval has passed since their last pull."""
    now = now or timezone.now()
    due = []
    for upstream in Upstream.objects.filter(enabled=True).select_related("user").order_by("pk"):
        last = upstream.last_run_at
        if last is None or now - last >= dt.timedelta(minutes=upstream.interval_minutes):
            due.append(upstream)
    return due


def sync_due(now: dt.datetime | None = None) -> dict[str, int]:
    """One pull of every platform that is due; counts of cases made, platforms pulled and failed."""
    counts = {"upstreams": 0, "created": 0, "failed": 0}
    for upstream in due_upstreams(now):
        result = sync(upstream, now=now)
        counts["upstreams"] += 1
        counts["created"] += len(result.created)
        counts["failed"] += 1 if result.failed else 0
    return counts


# --- push -------------------------------------------------------------------------------------------


def _pushed(event: CaseEvent) -> bool:
    if event.action not in PUSHED_ACTIONS:
        return False
    return event.action != "rate" or event.to_status == Status.CLOSED


def update_text(event: CaseEvent) -> str:
    """What the platform is told of a step: its name, and the words the step was taken with."""
    label = str(action_label(event.action))
    if event.action == "rate":
        label = str(action_label("close"))
    note = (event.note or "").strip()
    if event.action == "respond" and not note:
        note = _("已受理，正在办理。")
    return _("%(label)s：%(note)s") % {"label": label, "note": note} if note else label


def queue_update(event: CaseEvent) -> OutboxMessage | None:
    """Queue the update a step of a pulled case sends back to its platform, in the transaction
    that wrote the step. None when the step or the case is not one to send."""
    if not _pushed(event):
        return None
    case = cast(Case, event.case)
    if case.channel != Channel.HOTLINE_12345:
        return None
    link = UpstreamCase.objects.select_related("upstream").filter(case_id=case.pk).first()
    if link is None:
        return None
    upstream = link.upstream
    at = event.at or timezone.now()
    status = statuses.extended_of(event.to_status or case.status)
    with translation.override(settings.LANGUAGE_CODE):  # the platform reads the site's language
        text = update_text(event)
        subject = f"{link.request_id} {action_label(event.action)}"[:200]
    return OutboxMessage.objects.create(
        channel=CHANNEL,
        address=f"{upstream.pk}:{upstream.name}"[:254],
        subject=subject,
        text=text,
        link=case_services.case_page(case)[:300],
        template=status,
        params=[link.request_id, status, iso(at)],
        key=new_key(),
        kind="open311",
        state=OutboxMessage.State.QUEUED,
        next_attempt_at=timezone.now(),
    )


def on_case_event(sender: Any, *, event: CaseEvent, **kwargs: Any) -> None:
    """``cases.hooks.case_event_written``: queue the update of a pulled case's step."""
    queue_update(event)


def upstream_of(address: str) -> Upstream | None:
    pk, _sep, _name = address.partition(":")
    if not pk.isdigit():
        return None
    return Upstream.objects.filter(pk=int(pk)).first()


def _read_update(reply: Reply, key: str) -> Sent:
    excerpt = scrub(reply.excerpt(), key)
    if not reply.answered:
        words = _("无法连接上级平台：%(error)s") % {"error": scrub(reply.error, key)}
        return Sent(ok=False, code="network", answer=words, retry=True)
    if 200 <= reply.status < 300:
        provider_id = ""
        try:
            data = json.loads(reply.body.decode("utf-8"))
            if isinstance(data, list) and data and isinstance(data[0], dict):
                provider_id = str(data[0].get("update_id") or "")
        except (UnicodeDecodeError, ValueError):
            pass
        return Sent(ok=True, provider_id=provider_id[:200], code=str(reply.status), answer=excerpt)
    if reply.status in (401, 403):
        words = _("上级平台拒绝了接口密钥（HTTP %(status)s），请在管理后台核对接口密钥：%(body)s") % {
            "status": reply.status,
            "body": excerpt,
        }
        return Sent(ok=False, code=f"http_{reply.status}", answer=words, retry=False)
    words = _("上级平台答复 HTTP %(status)s：%(body)s") % {"status": reply.status, "body": excerpt}
    return Sent(ok=False, code=f"http_{reply.status}", answer=words, retry=http_retry(reply.status))


def post_update(message: Outgoing) -> Sent:
    """Send one queued update (the outbox's channel ``open311`` calls this): ``POST
    {base}/servicerequestupdates.json``, form-encoded, with ``update_id`` the message's key."""
    upstream = upstream_of(message.address)
    if upstream is None:
        return Sent(ok=False, code="upstream", answer=_("对接的上级平台已删除，无法回传。"), retry=False)
    if not upstream.enabled:
        return Sent(
            ok=False,
            code="disabled",
            answer=_("上级平台“%(name)s”已停用，启用后重试。") % {"name": upstream.name},
            retry=True,
        )
    upstream_id, status, updated = [*message.params, "", "", ""][:3]
    form = {
        "api_key": upstream.api_key,
        "service_request_id": upstream_id,
        "status": status,
        "description": message.text,
        "updated_datetime": updated,
        "update_id": message.key,
    }
    if upstream.jurisdiction_id:
        form["jurisdiction_id"] = upstream.jurisdiction_id
    timeout = float(cast(float, settings.JIEDAO.get("OPEN311_UPSTREAM_TIMEOUT", TIMEOUT)))
    reply = call(
        _url(upstream, "servicerequestupdates.json"),
        body=urllib.parse.urlencode(form).encode("utf-8"),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        timeout=timeout,
    )
    return _read_update(reply, upstream.api_key)
