"""Writes of the open interfaces: client keys, requests and updates posted through
Open311, the case export's access log, and webhook deliveries."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.cases import services as case_services
from jiedao.cases.models import Case, CaseEvent, Category, Channel, Status
from jiedao.cases.states import CASE
from jiedao.common.errors import ValidationFailed
from jiedao.common.lifecycle import assign_status, update_status
from jiedao.common.masking import mask_address
from jiedao.common.models import AccessLog
from jiedao.common.params import FIRST_DAY, LAST_DAY
from jiedao.messaging.services import notify
from jiedao.org.models import User
from jiedao.workcal.calendar import SHANGHAI

from . import exports, selectors, statuses
from .accounts import service_account
from .formats import Open311Error, iso
from .models import ApiKey, Delivery, ExternalUpdate, Open311Request, Webhook

if TYPE_CHECKING:
    from django.db.models import QuerySet

logger = logging.getLogger("jiedao.open311")

KEY_PREFIX = "o311_"
# The role of the service account a key acts through: it may register cases on the
# "接口" channel and nothing in the Open311 endpoints lets it read more than the public.
CLIENT_ROLE = "operator"
MAX_UPDATE_TEXT = 2000


# --- keys ---------------------------------------------------------------------------------


def _new_key():
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _service_account(name):
    return service_account(_("接口客户端：%(name)s") % {"name": name}, prefix="open311", role=CLIENT_ROLE)


def _check_key_name(name, exclude_pk=None):
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("name", _("请填写客户端名称。"))
    if len(name) > 80:
        raise ValidationFailed("name", _("客户端名称不能超过80个字。"))
    clash = ApiKey.objects.filter(name=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationFailed("name", _("已有名为“%(name)s”的密钥。") % {"name": name})
    return name


@transaction.atomic
def create_key(name: str, *, auto_dispatch: bool = False) -> tuple[ApiKey, str]:
    """Issue a key to a client system. Returns ``(key, plain)``: the plain key is shown
    once and never stored (only its SHA-256 hash)."""
    name = _check_key_name(name)
    plain = _new_key()
    key = ApiKey.objects.create(
        name=name,
        prefix=plain[:10],
        key_hash=selectors.hash_key(plain),
        user=_service_account(name),
        auto_dispatch=auto_dispatch,
    )
    return key, plain


@transaction.atomic
def issue_key(key: ApiKey) -> str:
    """Fill in a key row created in the admin (name and options set): a new secret and
    the service account. Returns the plain key."""
    key.name = _check_key_name(key.name, exclude_pk=key.pk)
    plain = _new_key()
    key.prefix = plain[:10]
    key.key_hash = selectors.hash_key(plain)
    if not key.user_id:
        key.user = _service_account(key.name)
    key.save()
    return plain


def revoke_key(name: str) -> int:
    updated = ApiKey.objects.filter(name=name, active=True).update(active=False)
    if not updated:
        raise ValidationFailed("name", _("没有名为“%(name)s”的有效密钥。") % {"name": name})
    return updated


def authenticate(plain: str | None) -> ApiKey:
    """The key for ``plain`` or a 403 in the standard's error list."""
    if not plain:
        raise Open311Error(403, _("缺少 api_key。"))
    key = selectors.key_for(plain)
    if key is None:
        raise Open311Error(403, _("api_key 无效或已停用。"))
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


# --- POST requests --------------------------------------------------------------------------


def _float(value, name):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Open311Error(400, _("%(name)s 必须是数字。") % {"name": name}) from None


def _check_url(value, name):
    if not value:
        return ""
    if len(value) > 500:
        raise Open311Error(400, _("%(name)s 过长（最多500个字符）。") % {"name": name})
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise Open311Error(400, _("%(name)s 不是有效的网址。") % {"name": name}) from None
    return value


def _attribute_answers(category, given):
    """Check ``attribute[code]`` values against the service definition. Returns
    ``(answers, lines)``: the values by code, and readable lines for the description."""
    errors, answers, lines = [], {}, []
    for attribute in selectors.attributes_of(category):
        if not attribute.variable:
            continue
        values = [v for v in given.get(attribute.code, []) if v != ""]
        if not values:
            if attribute.required:
                errors.append(
                    _("缺少必填的 attribute[%(code)s]（%(question)s）。")
                    % {"code": attribute.code, "question": attribute.description}
                )
            continue
        options = dict(attribute.values)
        kind = attribute.datatype
        if kind in ("singlevaluelist", "multivaluelist"):
            if kind == "singlevaluelist" and len(values) > 1:
                errors.append(_("attribute[%(code)s] 只能选一项。") % {"code": attribute.code})
                continue
            unknown = [v for v in values if v not in options]
            if unknown:
                errors.append(
                    _("attribute[%(code)s] 的取值“%(value)s”不在选项中（可选：%(keys)s）。")
                    % {"code": attribute.code, "value": "、".join(unknown), "keys": "、".join(options)}
                )
                continue
            answers[attribute.code] = values if kind == "multivaluelist" else values[0]
            shown = "、".join(options[v] for v in values)
        elif kind == "number":
            try:
                float(values[0])
            except ValueError:
                errors.append(_("attribute[%(code)s] 必须是数字。") % {"code": attribute.code})
                continue
            answers[attribute.code] = shown = values[0]
        elif kind == "datetime":
            try:
                parse_datetime(values[0])
            except ValueError:
                errors.append(_("attribute[%(code)s] 不是有效的 ISO 8601 时间。") % {"code": attribute.code})
                continue
            answers[attribute.code] = shown = values[0]
        else:
            answers[attribute.code] = shown = values[0][:500]
        lines.append(f"【{attribute.description}】{shown}")
    if errors:
        raise Open311Error(400, *errors)
    return answers, lines


def _reporter_name(first, last):
    if any(ord(ch) > 127 for ch in first + last):
        return (last + first).strip()
    return " ".join(part for part in (first, last) if part)


def service_notice(case: Case) -> str:
    if case.unit:
        return _("已受理并派至%(unit)s，请在办结时限前关注办理结果。") % {"unit": case.unit.name}
    category = cast(Category, case.category)  # a request is always for a service (a category)
    return _("已受理。承办单位将在%(hours)s小时内响应，%(days)d个工作日内办结。") % {
        "hours": f"{category.response_hours:g}",
        "days": category.completion_workdays,
    }


def submit_request(
    key: ApiKey, *, params: dict[str, str], attributes: dict[str, list[str]]
) -> tuple[Case, Open311Request]:
    """POST requests: one new case on the 接口 channel. ``params`` are the form fields
    (empty ones already removed), ``attributes`` the ``attribute[code]`` lists.
    Returns ``(case, open311_request)``."""
    code = params.get("service_code")
    if not code:
        raise Open311Error(400, _("缺少 service_code。"))
    category = selectors.service(code)
    lat, lng = params.get("lat"), params.get("long")
    if (lat is None) != (lng is None):
        raise Open311Error(400, _("lat 和 long 必须同时提供。"))
    if lat is not None:
        lat, lng = _float(lat, "lat"), _float(lng, "long")
    address = params.get("address_string", "")
    address_id = params.get("address_id", "")
    if lat is None and not address and not address_id:
        raise Open311Error(400, _("请提供位置：lat 和 long，或 address_string，或 address_id。"))
    if len(address_id) > 100:
        raise Open311Error(400, _("address_id 过长（最多100个字符）。"))
    email = params.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, _("email 不是有效的电子邮箱。")) from None
    media_url = _check_url(params.get("media_url", ""), "media_url")
    for name in ("account_id", "device_id"):
        if len(params.get(name, "")) > 100:
            raise Open311Error(400, _("%(name)s 过长（最多100个字符）。") % {"name": name})
    answers, lines = _attribute_answers(category, attributes)
    description = params.get("description", "") or category.name
    if lines:
        description = description + "\n" + "\n".join(lines)
    values = {
        "channel": Channel.API,
        "description": description,
        "reporter_name": _reporter_name(params.get("first_name", ""), params.get("last_name", "")),
        "reporter_phone": params.get("phone", ""),
        "lat": lat,
        "lng": lng,
        "address": address,
        "category_code": category.code,
    }
    with transaction.atomic():
        try:
            case, _created = case_services.submit_case(key.user, dispatch=key.auto_dispatch, **values)
        except ValidationFailed as exc:
            # Nothing routes the case: it waits for the dispatcher instead of failing.
            if not key.auto_dispatch or {e["field"] for e in exc.errors} != {"unit"}:
                raise
            case, _created = case_services.submit_case(key.user, dispatch=False, **values)
        extra = Open311Request.objects.create(
            case=case,
            token=uuid.uuid4().hex,
            api_key=key,
            account_id=params.get("account_id", ""),
            device_id=params.get("device_id", ""),
            email=email,
            media_url=media_url,
            address_id=address_id,
            attributes=answers,
        )
    return case, extra


# --- POST servicerequestupdates ---------------------------------------------------------------


def parse_datetime(value: str) -> dt.datetime:
    """ISO 8601 (a date, or a date and time with or without an offset; without one,
    Beijing time), in the supported years (``jiedao.common.params``). Raises ValueError."""

    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if not FIRST_DAY <= parsed.date() <= LAST_DAY:
        raise ValueError(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed


def post_update(key: ApiKey, *, params: dict[str, str]) -> CaseEvent:
    """Record a client's update on a case as an event of its log (the status it names is
    recorded, not applied: staff act on it), and tell the unit holding the case.
    Idempotent by the client's ``update_id``. Returns the event."""
    number = params.get("service_request_id")
    if not number:
        raise Open311Error(400, _("缺少 service_request_id。"))
    status = (params.get("status") or "").lower()
    if not status:
        raise Open311Error(400, _("缺少 status。"))
    if status not in statuses.EXTENDED_STATUSES:
        raise Open311Error(
            400,
            _("status“%(value)s”无效，可用：%(values)s。")
            % {"value": params["status"], "values": ", ".join(s.upper() for s in statuses.EXTENDED_STATUSES)},
        )
    updated = timezone.now()
    if params.get("updated_datetime"):
        try:
            updated = parse_datetime(params["updated_datetime"])
        except ValueError:
            raise Open311Error(400, _("updated_datetime 不是有效的 ISO 8601 时间。")) from None
    description = params.get("description", "")
    if len(description) > MAX_UPDATE_TEXT:
        raise Open311Error(400, _("description 不能超过%(max)d个字。") % {"max": MAX_UPDATE_TEXT})
    media_url = _check_url(params.get("media_url", ""), "media_url")
    client_id = params.get("update_id", "")[:100]
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("unit").filter(number=number).first()
        if case is None:
            raise Open311Error(404, _("service_request_id“%(id)s”不存在。") % {"id": number})
        if client_id:
            previous = (
                ExternalUpdate.objects.filter(api_key=key, client_update_id=client_id).select_related("event").first()
            )
            if previous is not None:
                return previous.event
        event = CASE.record(
            case,
            statuses.UPDATE_ACTION,
            key.user,
            note=description,
            data={
                "status": status,
                "media_url": media_url,
                "client": key.name,
                "update_id": client_id,
                "updated_datetime": iso(updated),
            },
        )
        ExternalUpdate.objects.create(
            api_key=key,
            case=case,
            event=event,
            client_update_id=client_id,
            status=status,
            description=description,
            media_url=media_url,
            updated_datetime=updated,
        )
        if case.unit_id and case.status != Status.CLOSED:
            notify(
                unit=case.unit,
                link=case_services.case_page(case),
                kind="open311",
                message=_("工单 %(number)s 收到外部系统“%(client)s”的更新（%(status)s），请查看。")
                % {"number": case.number, "client": key.name, "status": status},
            )
    return event


# --- exports ------------------------------------------------------------------------------------


def export_cases(user: User, *, fmt: str, **filters: str) -> tuple[str, str, bytes]:
    """The cases the user may see, filtered, as CSV or Excel with the reporter masked
    unless the user may see it. Logs the export when anything was unmasked.
    Returns ``(filename, content_type, data)``."""

    if fmt not in exports.FORMATS:
        raise ValidationFailed("format", _("导出格式应为 csv 或 xlsx。"))
    rows, unmasked = exports.rows(user, **filters)
    data = exports.write(fmt, rows)
    if unmasked[0]:
        summary = ", ".join(f"{k}={v}" for k, v in filters.items() if v)
        AccessLog.objects.create(
            user=user,
            object_type="cases.case",
            object_id=f"export:{unmasked[0]}",
            fields="reporter_name,reporter_phone,address",
            purpose=(_("导出工单 %(n)d 件（%(filters)s）") % {"n": unmasked[0], "filters": summary or _("全部")})[:200],
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"cases-{stamp}.{fmt}", exports.FORMATS[fmt], data


# --- webhooks: deliveries are prepared from the case event log and sent by the worker -------

EVENT_LABELS = {
    "case.created": _("受理"),
    "case.dispatched": _("派单"),
    "case.returned": _("退单"),
    "case.responded": _("响应"),
    "case.resolved": _("办结反馈"),
    "case.verified": _("核查通过"),
    "case.verification_failed": _("核查不通过"),
    "case.rated": _("回访评价"),
    "case.reopened": _("重办"),
    "case.closed": _("结案"),
    "case.merged": _("并案"),
    "case.deadline": _("时限预警（临期、超期）"),
    "case.updated": _("其他办理动作（分类、进展、延期、吹哨、督办、外部更新）"),
}
ACTION_EVENTS = {
    "create": "case.created",
    "dispatch": "case.dispatched",
    "return": "case.returned",
    "respond": "case.responded",
    "resolve": "case.resolved",
    "verify_pass": "case.verified",
    "verify_fail": "case.verification_failed",
    "rate": "case.rated",
    "close": "case.closed",
    "merge": "case.merged",
    "sla": "case.deadline",
}
# Case events are read from the log by id. On PostgreSQL a transaction may commit an
# event with a lower id after a higher one was read, so each round looks this many ids
# back as well; a delivery exists once per (webhook, event, name), so nothing is sent twice.
LOOKBACK_IDS = 200
COLLECT_BATCH = 2000


def events_for(case_event: CaseEvent) -> list[str]:
    names = [ACTION_EVENTS.get(case_event.action, "case.updated")]
    if case_event.action == "rate":
        if case_event.to_status == Status.CLOSED:
            names.append("case.closed")
        elif case_event.data.get("reopen"):
            names.append("case.reopened")
    return names


def payload_for(case_event: CaseEvent, *, name: str) -> dict[str, Any]:
    """The event, and the case as it is when the delivery is prepared (public fields only)."""
    case = case_event.case
    category = case.category if case.category_id else None
    unit = case.unit if case.unit_id else None
    return {
        "event": name,
        "event_id": case_event.pk,
        "occurred_at": iso(case_event.at),
        "action": case_event.action,
        "from_status": case_event.from_status,
        "to_status": case_event.to_status,
        "case": {
            "number": case.number,
            "status": case.status,
            "open311_status": statuses.status_of(case.status),
            "extended_status": statuses.extended_of(case.status),
            "channel": case.channel,
            "category": {"code": category.code, "name": category.name} if category else None,
            "unit": {"code": unit.code, "name": unit.name} if unit else None,
            "address": mask_address(case.address),
            "lat": case.lat,
            "lng": case.lng,
            "created_at": iso(case.created_at),
            "dispatched_at": iso(case.dispatched_at),
            "completion_due": iso(case.completion_due),
            "resolved_at": iso(case.resolved_at),
            "closed_at": iso(case.closed_at),
        },
    }


def _top_event_id():
    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def new_events_waiting(now: dt.datetime | None = None) -> bool:
    """Whether case events were written that an active webhook has not looked at yet."""
    low = (
        Webhook.objects.filter(active=True, cursor__isnull=False)
        .order_by("cursor")
        .values_list("cursor", flat=True)
        .first()
    )
    if Webhook.objects.filter(active=True, cursor__isnull=True).exists():
        return True
    return low is not None and CaseEvent.objects.filter(id__gt=low).exists()


@transaction.atomic
def collect_events(now: dt.datetime | None = None) -> int:
    """Turn the case events written since the last round into pending deliveries, one per
    subscribed webhook and event name. The case event log is the outbox: the case loop
    writes its events as always and never waits for, or even knows about, webhooks.
    Imported history is not sent. Returns the number of deliveries written."""
    now = now or timezone.now()
    hooks = list(Webhook.objects.select_for_update().filter(active=True))
    if not hooks:
        return 0
    top = _top_event_id()
    fresh = [h for h in hooks if h.cursor is None]
    for hook in fresh:  # a new webhook starts with the events written after it
        hook.cursor = hook.since = top
        hook.save(update_fields=["cursor", "since"])
    hooks = [h for h in hooks if h not in fresh]
    if not hooks:
        return 0
    # Every hook left has a cursor (the new ones were given one above).
    low = max(min(h.cursor for h in hooks) - LOOKBACK_IDS, 0)  # type: ignore[type-var, operator]
    events = list(
        CaseEvent.objects.filter(id__gt=low)
        .select_related("case__category", "case__unit")
        .order_by("id")[:COLLECT_BATCH]
    )
    if not events:
        return 0
    rows = []
    for event in events:
        if isinstance(event.data, dict) and event.data.get("import"):
            continue
        names = events_for(event)
        for hook in hooks:
            if event.id <= hook.cursor - LOOKBACK_IDS or event.id <= (hook.since or 0):  # type: ignore[operator]
                continue
            for name in names:
                if hook.events and name not in hook.events:
                    continue
                rows.append(
                    Delivery(
                        webhook=hook,
                        event=name,
                        case_event_id=event.id,
                        payload=payload_for(event, name=name),
                        next_try_at=now,
                    )
                )
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    last = events[-1].id
    for hook in hooks:
        if hook.cursor < last:  # type: ignore[operator]
            hook.cursor = last
            hook.save(update_fields=["cursor"])
    return len(rows)


def sign(secret: str, *, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 under the webhook's secret of ``timestamp + "." + body``."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def backoff(attempts: int, *, base: float | None = None) -> dt.timedelta:
    """Wait before the next try after ``attempts`` failures: base, 2×base, 4×base …, at most 6 hours."""
    base = base if base is not None else cast(float, settings.JIEDAO.get("WEBHOOK_BACKOFF_SECONDS", 30))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url, body, headers, timeout):
    """(status code or None, body excerpt, error)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(2000).decode("utf-8", "replace")[:500], ""
    except urllib.error.HTTPError as exc:
        try:
            text = exc.read(2000).decode("utf-8", "replace")[:500]
        except OSError:
            text = ""
        return exc.code, text, ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, "", str(reason)[:300] or exc.__class__.__name__


def send(delivery: Delivery, *, secret: str, timeout: float = 5.0) -> tuple[int | None, str, str]:
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Jiedao-Webhook/1",
        "X-Jiedao-Event": delivery.event,
        "X-Jiedao-Delivery": str(delivery.pk),
        "X-Jiedao-Timestamp": timestamp,
        "X-Jiedao-Signature": sign(secret, timestamp=timestamp, body=body),
    }
    return _post(delivery.webhook.url, body, headers, timeout)


STALE_SENDING = dt.timedelta(minutes=5)


def deliver_due(
    now: dt.datetime | None = None,
    *,
    limit: int = 50,
    budget_seconds: float = 20.0,
    timeout: float = 5.0,
    base: float | None = None,
) -> dict[str, int]:
    """Send the deliveries that are due, oldest first, within a time budget. A failure
    schedules the next try with exponential back-off, up to the webhook's maximum; after
    one failure the webhook's other deliveries wait for the next round, so one dead
    endpoint costs one timeout per round. Returns counts."""
    now = now or timezone.now()
    started = time.monotonic()
    collect_events(now)
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    # Deliveries left "sending" by a worker that died are due again.
    update_status(
        Delivery.objects.filter(status=Delivery.Status.SENDING, last_tried_at__lt=now - STALE_SENDING),
        Delivery.Status.PENDING,
    )
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_try_at__lte=now, webhook__active=True)
        .order_by("next_try_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    failing = set()
    for delivery_id in due:
        if time.monotonic() - started > budget_seconds:
            break
        claimed = update_status(
            Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING),
            Delivery.Status.SENDING,
            last_tried_at=now,
        )
        if not claimed:
            continue  # another worker has it
        delivery = Delivery.objects.select_related("webhook").get(pk=delivery_id)
        if delivery.webhook_id in failing:
            update_status(Delivery.objects.filter(pk=delivery_id), Delivery.Status.PENDING)
            continue
        code, text, error = send(delivery, secret=delivery.webhook.secret, timeout=timeout)
        delivery.attempts += 1
        delivery.response_code = code
        delivery.response_body = text
        delivery.error = error
        if code is not None and 200 <= code < 300:
            assign_status(delivery, Delivery.Status.DELIVERED)
            delivery.delivered_at = timezone.now()
            delivery.next_try_at = None
            counts["delivered"] += 1
        else:
            failing.add(delivery.webhook_id)
            if not error:
                delivery.error = _("接收方返回 HTTP %(code)s。") % {"code": code}
            if delivery.attempts >= delivery.webhook.max_attempts:
                assign_status(delivery, Delivery.Status.FAILED)
                delivery.next_try_at = None
                counts["failed"] += 1
            else:
                assign_status(delivery, Delivery.Status.PENDING)
                delivery.next_try_at = now + backoff(delivery.attempts, base=base)
                counts["retry"] += 1
        delivery.save(
            update_fields=[
                "attempts",
                "response_code",
                "response_body",
                "error",
                "status",
                "delivered_at",
                "next_try_at",
            ]
        )
    return counts


def retry_now(deliveries: QuerySet[Delivery], *, now: dt.datetime | None = None) -> int:
    """Send these deliveries again at the next round (from the admin)."""
    now = now or timezone.now()
    return update_status(deliveries.exclude(status=Delivery.Status.DELIVERED), Delivery.Status.PENDING, next_try_at=now)


@transaction.atomic
def save_webhook(webhook: Webhook) -> Webhook:
    """Create or change a webhook; a blank secret gets a new random one. A new webhook
    receives the events written from now on."""
    unknown = [e for e in (webhook.events or []) if e not in EVENT_LABELS]
    if unknown:
        raise ValidationFailed("events", _("未知的事件：%(events)s") % {"events": ", ".join(unknown)})
    if not webhook.secret:
        webhook.secret = secrets.token_urlsafe(32)
    if webhook.pk is None or webhook.cursor is None:
        webhook.cursor = webhook.since = _top_event_id()
    webhook.save()
    return webhook
