"""What the robot and SMS channels share: one HTTP call that never raises and never follows a
redirect, the reading of ``name=KEY;name=KEY`` settings, the mainland mobile rule and the masking
of keys in what is shown or logged."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext

from .base import Sent

#: A mainland mobile number: 11 digits from 13… to 19…, with +86 or 86 in front allowed.
MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_SEPARATORS = re.compile(r"[\s\-()]")


def mainland_mobile(phone: str) -> str:
    """The 11 digits of a mainland mobile number, or "" when ``phone`` is not one."""
    found = MOBILE.fullmatch(_SEPARATORS.sub("", phone or ""))
    return found.group(1) if found else ""


def mask(secret: str) -> str:
    """A key as it may be shown: its first four characters at most, never the whole."""
    if not secret:
        return ""
    return (secret[:4] if len(secret) > 8 else "") + "****"


def scrub(text: str, *secrets: str) -> str:
    """``text`` with every secret in it masked (a provider may echo a key back)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return text


def valid_url(url: str) -> bool:
    parts = urllib.parse.urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def named_pairs(value: str | Mapping[str, str], *, setting: str) -> tuple[dict[str, str], list[str]]:
    """Read ``名称=值;名称=值`` (or a mapping given in the settings): the pairs and the problems."""
    if isinstance(value, Mapping):
        pairs = {str(k).strip(): str(v).strip() for k, v in value.items()}
        problems = [
            gettext("%(setting)s 中“%(name)s”没有填写密钥。") % {"setting": setting, "name": k}
            for k, v in pairs.items()
            if not v
        ]
        return {k: v for k, v in pairs.items() if k and v}, problems
    pairs, problems = {}, []
    for number, item in enumerate(part for part in (value or "").split(";") if part.strip()):
        name, sep, secret = item.partition("=")
        name, secret = name.strip(), secret.strip()
        if not sep or not name or not secret:
            problems.append(
                gettext("%(setting)s 第 %(number)s 项应写成“名称=密钥”。") % {"setting": setting, "number": number + 1}
            )
        elif name in pairs:
            problems.append(gettext("%(setting)s 中名称“%(name)s”重复。") % {"setting": setting, "name": name})
        else:
            pairs[name] = secret
    return pairs, problems


@dataclass(frozen=True)
class Reply:
    """What came back: the HTTP status (0 when nothing came back), the body, and the network
    error's words when the call did not get an answer."""

    status: int
    body: bytes = b""
    error: str = ""

    @property
    def answered(self) -> bool:
        return self.status != 0

    def json(self) -> dict | None:
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def excerpt(self) -> str:
        return self.body[:500].decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def call(url: str, *, method: str = "POST", body: bytes | None = None, content_type: str = "", timeout: float) -> Reply:
    """One HTTP request; a network failure or a timeout is a ``Reply`` with status 0."""
    headers = {"User-Agent": "Jiedao/1"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Reply(response.status, response.read(64 * 1024))
    except urllib.error.HTTPError as exc:
        try:
            text = exc.read(64 * 1024)
        except OSError:
            text = b""
        return Reply(exc.code, text)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Reply(0, error=str(reason)[:300] or exc.__class__.__name__)


def http_retry(status: int) -> bool:
    """Whether an HTTP failure may heal: no answer, too many requests, or the server's own error."""
    return status == 0 or status == 429 or status >= 500


def robot_reply(
    reply: Reply,
    *,
    unreachable: str,
    refused: str,
    secrets: tuple[str, ...],
    known: Mapping[int, object],
    retry_codes: set[int],
    extra: dict,
) -> Sent:
    """What a group robot's answer means (企业微信 and 钉钉 answer alike: HTTP 200 with
    ``{"errcode": 0, "errmsg": "ok"}``). ``unreachable`` and ``refused``: the provider's own words
    for no answer (``%(error)s``) and an HTTP failure (``%(status)s``, ``%(body)s``); ``known``:
    its error codes in plain words; ``retry_codes``: those that may heal. The secrets are
    scrubbed from every word kept."""
    if not reply.answered:
        words = unreachable % {"error": scrub(reply.error, *secrets)}
        return Sent(ok=False, code="network", answer=words, retry=True, extra=extra)
    data = reply.json()
    if reply.status != 200 or data is None:
        words = refused % {"status": reply.status, "body": scrub(reply.excerpt(), *secrets)}
        return Sent(ok=False, code=f"http_{reply.status}", answer=words, retry=http_retry(reply.status), extra=extra)
    try:
        errcode = int(data.get("errcode", -2))
    except (TypeError, ValueError):
        errcode = -2
    errmsg = scrub(str(data.get("errmsg", "")), *secrets)
    if errcode == 0:
        return Sent(ok=True, code="0", answer=errmsg, extra=extra)
    plain = known.get(errcode)
    words = f"{plain}（{errcode} {errmsg}）" if plain else f"{errcode} {errmsg}"
    return Sent(ok=False, code=str(errcode), answer=words, retry=errcode in retry_codes, extra=extra)
