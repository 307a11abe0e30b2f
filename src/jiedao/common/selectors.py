"""Reads of the shared tables: the state of the field keys, the access log, and the search vocabulary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models
from django.db.models import ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from . import crypto
from .errors import NotAllowed
from .models import AccessLog, SearchTerm

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

# --- encrypted values ------------------------------------------------------------------

BATCH = 1000


def raw_column(name: str) -> ExpressionWrapper:
    """The column as stored (the token), not decrypted by the field."""
    return ExpressionWrapper(F(name), output_field=models.TextField())


def with_values(fields: Sequence[models.Field]) -> Q | None:
    """Rows holding at least one encrypted value among ``fields``."""
    condition = None
    for f in fields:
        one = Q(**{f"{f.attname}__isnull": False}) & ~Q(**{f.attname: ""})
        condition = one if condition is None else condition | one
    return condition


def raw_rows(
    model: type[models.Model],
    fields: Sequence[models.Field],
    after: int | None = None,
    limit: int = BATCH,
    queryset: QuerySet | None = None,
) -> list[dict[str, Any]]:
    """A batch of ``{"pk": …, "raw_<attname>": token}`` rows in key order, after ``after``."""
    qs = queryset if queryset is not None else model._base_manager.all()
    qs = qs.filter(with_values(fields)).order_by("pk")
    if after is not None:
        qs = qs.filter(pk__gt=after)
    annotations = {f"raw_{f.attname}": raw_column(f.attname) for f in fields}
    return list(qs.annotate(**annotations).values("pk", *annotations)[:limit])


@dataclass
class FieldKeyCount:
    model: str
    field: str
    total: int = 0
    current: int = 0
    older: int = 0
    unreadable: int = 0


@dataclass
class KeyStatus:
    source: str  # "env" or "file"
    path: str
    key_count: int
    fields: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(f.total for f in self.fields)

    @property
    def current(self) -> int:
        return sum(f.current for f in self.fields)

    @property
    def older(self) -> int:
        return sum(f.older for f in self.fields)

    @property
    def unreadable(self) -> int:
        return sum(f.unreadable for f in self.fields)


def key_status(batch: int = BATCH) -> KeyStatus:
    """How many encrypted values each field holds, and under which key: the current
    (first) key, an older one, or none of the configured keys (unreadable)."""
    source = crypto.field_key_source()
    keys = crypto.field_keys()
    status = KeyStatus(source=source.kind, path=str(source.path or ""), key_count=len(keys))
    for model, fields in crypto.encrypted_fields():
        counts = {f.attname: FieldKeyCount(model._meta.label, f.attname) for f in fields}
        last = None
        while True:
            rows = raw_rows(model, fields, after=last, limit=batch)
            if not rows:
                break
            last = rows[-1]["pk"]
            for row in rows:
                for f in fields:
                    token = row[f"raw_{f.attname}"]
                    if not token:
                        continue
                    count = counts[f.attname]
                    count.total += 1
                    position = crypto.key_position(token)
                    if position == 0:
                        count.current += 1
                    elif position is None:
                        count.unreadable += 1
                    else:
                        count.older += 1
        status.fields.extend(counts.values())
    return status


# --- the access log ----------------------------------------------------------------------


def may_review_access_log(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.has_role("admin")


def logged_object_types() -> list[tuple[str, str]]:
    """``(label_lower, name)`` of the kinds of records whose personal data can be shown
    unmasked: every model holding encrypted values."""
    return [(model._meta.label_lower, str(model._meta.verbose_name)) for model, _fields in crypto.encrypted_fields()]


def _local_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def access_log_queryset(
    user: Any,
    *,
    username: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    object_type: str = "",
) -> QuerySet[AccessLog]:
    """The access log as the reviewer filters it, newest first. Administrators only."""
    if not may_review_access_log(user):
        raise NotAllowed(_("只有系统管理员可以查看个人信息查看记录。"))
    qs = AccessLog.objects.select_related("user").order_by("-id")
    if username:
        qs = qs.filter(user__username=username.strip())
    if date_from:
        qs = qs.filter(at__gte=_local_day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=_local_day_start(date_to + dt.timedelta(days=1)))
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs


def access_log_page(
    user: Any, *, before: int | None = None, limit: int = 50, **filters: Any
) -> tuple[list[AccessLog], int | None]:
    """One page of the log, keyed by id (newest first): ``(rows, next_before)``.
    Each row carries ``object_label`` (a case's number where it is a case) and
    ``field_labels``. A fixed number of queries whatever the page holds."""
    qs = access_log_queryset(user, **filters)
    if before:
        qs = qs.filter(id__lt=before)
    limit = max(1, min(int(limit), 500))
    rows = list(qs[: limit + 1])
    next_before = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    describe(rows)
    return rows, next_before


# Rows about a case also show the case's number (linked to its page).
CASE = "cases.case"

# Where the unmasked view happened, as written by the callers of ``log_unmasked_view``.
PURPOSE_LABELS = {
    "case page": _lazy("工单页面"),
    "api": _lazy("接口"),
    "admin": _lazy("管理后台"),
    "grid page": _lazy("网格页面"),
    "assistance list": _lazy("帮扶清单"),
    "person page": _lazy("人员档案页面"),
    "conflicts": _lazy("数据冲突页面"),
}


def purpose_label(purpose: str) -> str:
    """Where or why, in words: a look-up by a complete number ("lookup:2") says how many it found."""
    kind, _sep, count = purpose.partition(":")
    if kind == "lookup" and count.isdigit():
        return _("按完整号码精确查找（找到%(n)s条）") % {"n": count}
    return str(PURPOSE_LABELS.get(purpose, purpose))


def _model(label):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def describe(rows: list[Any]) -> list[Any]:
    """Adds readable labels to log rows: field names and, for cases, the case number. The
    models are found by their label in Django's app registry, so no app is imported here."""
    models_by_label = {label: _model(label) for label in {row.object_type for row in rows}}
    case_model = models_by_label.get(CASE)
    case_ids = [r.object_id for r in rows if r.object_type == CASE and r.object_id.isdigit()]
    numbers = {}
    if case_model is not None and case_ids:
        found = case_model.objects.filter(pk__in=case_ids).values_list("pk", "number")
        numbers = {str(pk): number for pk, number in found}
    for row in rows:
        model = models_by_label[row.object_type]
        row.type_label = str(model._meta.verbose_name) if model else row.object_type
        row.case_number = numbers.get(row.object_id) if row.object_type == CASE else None
        row.purpose_label = purpose_label(row.purpose)
        row.field_labels = [_field_label(model, name) for name in row.fields.split(",") if name]
    return rows


def _field_label(model, name):
    if model is None:
        return name
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # a field renamed since the row was written
        return name


# --- the search vocabulary -------------------------------------------------------------


def vocabulary() -> dict[str, list[str]]:
    """Everyday word → the formal terms it stands for, for every search (words switched off
    by an administrator left out)."""
    return {t.word: t.term_list for t in SearchTerm.objects.filter(active=True)}
