"""Writes to the shared data: rotation of the keys that encrypt personal data.

Run from the command line by an operator (``jiedao keys …``); see
docs/data-protection.md for the steps and for backups.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cryptography.fernet import InvalidToken
from django.db import transaction
from django.utils.translation import gettext as _

from . import crypto, selectors
from .errors import ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db import models

logger = logging.getLogger("jiedao.keys")

BATCH = 500


def reencrypt_all(
    batch_size: int = BATCH, *, progress: Callable[[str, int, int], object] | None = None
) -> dict[str, int]:
    """Re-encrypt every value that is not under the current (first) key, in batches of
    ``batch_size`` rows, each batch in its own transaction. Values already under the
    current key are left alone, so an interrupted run can simply be started again.

    ``progress(model_label, done, total)`` is called after each batch. Returns counts:
    ``checked`` values, ``rewritten`` values, ``unreadable`` values (no configured key
    opens them; they are left as they are)."""
    totals = {"checked": 0, "rewritten": 0, "unreadable": 0}
    current = crypto.current_fernet()
    every_key = crypto.fernet()
    for model, fields in crypto.encrypted_fields():
        label = model._meta.label
        manager = model._base_manager
        total = manager.filter(selectors.with_values(fields)).count()
        done = 0
        last = None
        while True:
            with transaction.atomic():
                rows = selectors.raw_rows(
                    model, fields, after=last, limit=batch_size, queryset=manager.select_for_update()
                )
                if not rows:
                    break
                last = rows[-1]["pk"]
                changed: dict[str, list[models.Model]] = {f.attname: [] for f in fields}
                for row in rows:
                    for f in fields:
                        token = row[f"raw_{f.attname}"]
                        if not token:
                            continue
                        totals["checked"] += 1
                        data = token.encode("ascii")
                        try:
                            current.decrypt(data)
                            continue
                        except InvalidToken:
                            pass
                        try:
                            plain = every_key.decrypt(data).decode("utf-8")
                        except InvalidToken:
                            totals["unreadable"] += 1
                            continue
                        changed[f.attname].append(model(pk=row["pk"], **{f.attname: plain}))
                for attname, objs in changed.items():
                    if objs:
                        # The field encrypts the plain value again, with the current key.
                        manager.bulk_update(objs, [attname])
                        totals["rewritten"] += len(objs)
            done += len(rows)
            if progress is not None:
                progress(label, done, total)
    logger.info("re-encrypted %(rewritten)d of %(checked)d values (%(unreadable)d unreadable)", totals)
    return totals


def rotate_keys(
    batch_size: int = BATCH, *, progress: Callable[[str, int, int], object] | None = None
) -> dict[str, int]:
    """Generate a new field key, put it first in the key file (it encrypts from now on,
    the older keys still decrypt), then re-encrypt every value under it. The blind-index
    key does not change, so look-ups by exact value keep working."""
    source = crypto.field_key_source()
    if not source.writable:
        raise ValidationFailed(
            "keys",
            _(
                "字段密钥来自环境变量 JIEDAO_FIELD_KEYS，无法由命令改写。请用 jiedao keys generate 生成新密钥，"
                "放在 JIEDAO_FIELD_KEYS 的最前面（旧密钥保留在后面），重启网站和后台任务，"
                "再运行 jiedao keys reencrypt。"
            ),
        )
    keys = list(crypto.field_keys())
    crypto.write_field_keys([crypto.generate_key(), *keys])
    logger.warning("field key rotated: %d keys now, the new one first", len(keys) + 1)
    counts = reencrypt_all(batch_size=batch_size, progress=progress)
    return {**counts, "keys": len(keys) + 1}


def retire_old_keys() -> dict[str, int | str]:
    """Remove every key but the current one, once no stored value needs them (every
    value opens with the current key alone). Refused otherwise, naming the counts."""
    status = selectors.key_status()
    if status.older or status.unreadable:
        raise ValidationFailed(
            "keys",
            _(
                "还有 %(older)d 个值由旧密钥加密、%(unreadable)d 个值无法解密，不能停用旧密钥。"
                "请先运行 jiedao keys reencrypt。"
            )
            % {"older": status.older, "unreadable": status.unreadable},
        )
    retired = status.key_count - 1
    if retired and crypto.field_key_source().writable:
        crypto.write_field_keys(crypto.field_keys()[:1])
        logger.warning("retired %d old field keys", retired)
    return {"retired": retired, "source": status.source, "values": status.total}
