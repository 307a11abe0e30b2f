"""Delivery reports (送达回执) as SMS providers post them back, read into one shape:
``{"id": the provider's id of the message, "ok": delivered or not, "at": when, "answer": words}``.

- 腾讯云短信 posts a JSON list of ``{"sid", "report_status": "SUCCESS"|"FAIL", "errmsg",
  "description", "user_receive_time": "2026-12-07 09:30:05", "mobile", "nationcode"}``; ``sid`` is
  the ``SerialNo`` it answered the sending with.
- A generic HTTP gateway posts one JSON object or a list of them (or ``{"reports": [...]}``) with
  the message id (``msgid``, ``id`` or the gateway's ``id_field``) and ``status``: ``DELIVRD``,
  ``DELIVERED``, ``SUCCESS``, ``OK`` or ``0`` mean delivered; anything else, not.

Pure: reads what it is given."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

DELIVERED = {"DELIVRD", "DELIVERED", "SUCCESS", "OK", "0"}


class BadReport(ValueError):
    """A body that is not a report this channel sends."""


def _time(text: object) -> dt.datetime | None:
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(text).strip().replace("/", "-"))
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _items(body: bytes) -> list[dict]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadReport("not json") from None
    if isinstance(data, dict):
        data = data.get("reports", [data])
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise BadReport("not a list of objects")
    return data


def parse(channel: str, body: bytes, *, id_field: str = "") -> list[dict]:
    """The reports in ``body`` as posted by ``channel``'s provider."""
    reports = []
    for item in _items(body):
        if channel == "sms_tencent":
            status = str(item.get("report_status") or "").upper()
            words = " ".join(str(item.get(k) or "") for k in ("errmsg", "description")).strip()
            reports.append(
                {
                    "id": str(item.get("sid") or ""),
                    "ok": status == "SUCCESS",
                    "at": _time(item.get("user_receive_time")),
                    "answer": words,
                }
            )
        else:
            key = next((k for k in (id_field, "msgid", "id") if k and item.get(k) not in (None, "")), "")
            status = str(item.get("status", "")).strip().upper()
            reports.append(
                {
                    "id": str(item.get(key) or "") if key else "",
                    "ok": status in DELIVERED,
                    "at": _time(item.get("time") or item.get("done_time")),
                    "answer": str(item.get("message") or item.get("status") or ""),
                }
            )
    return reports
