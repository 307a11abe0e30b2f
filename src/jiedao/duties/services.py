"""Every write to the responsibility list. A change never edits a version: it writes
the next version (who, when, why, approving document) and moves the item's pointer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import FieldErrors, NotFound
from jiedao.org import permissions
from jiedao.org.models import Unit

from .models import DutyItem, DutyStatus, DutyVersion, Level, ListType, PowerType
from .selectors import forget_cached_list

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jiedao.org.models import User

# The fields a version carries, as plain values (units and categories by code).
FIELDS = (
    "name",
    "list_type",
    "categories",
    "basis_statute",
    "basis_article",
    "basis_text",
    "power_type",
    "level",
    "responsible_unit",
    "collaborating_units",
    "response_hours",
    "completion_workdays",
    "needs_verification",
    "full_enforcement",
    "how_to",
    "keywords",
    "status",
    "effective_from",
    "effective_to",
)


def _require_admin(user):
    permissions.require(user, "duties.edit", _("只有系统管理员可以修改权责清单。"))


def _choice(errors, field, value, choices, label):
    if value in choices.values:
        return value
    by_label = {str(lbl): val for val, lbl in choices.choices}
    if value in by_label:
        return by_label[value]
    errors.add(
        field,
        _("%(label)s“%(value)s”无效，可选：%(options)s。")
        % {"label": label, "value": value, "options": "、".join(str(lbl) for _, lbl in choices.choices)},
    )
    return None


def _unit(errors, field, value, units_by_key):
    unit = units_by_key.get(str(value).strip())
    if unit is None:
        errors.add(field, _("单位“%(value)s”不存在（请填写单位代码或全称）。") % {"value": value})
    return unit


def _units_by_key():
    keys = {}
    for unit in Unit.objects.filter(active=True):
        keys[unit.code] = unit
        keys[unit.name] = unit
    return keys


def _category_model():
    """The case catalogue's category model, through the duty versions' relation to it."""
    return DutyVersion._meta.get_field("categories").related_model


def _categories_by_key():
    Category = _category_model()
    keys = {}
    for cat in Category.objects.filter(active=True).select_related("parent__parent"):
        keys[cat.code] = cat
        keys[cat.path_name.replace(" ", "")] = cat
        if cat.level == 3:
            keys.setdefault(cat.name, cat)
    return keys


def _to_date(errors, field, value, required):
    if value in (None, ""):
        if required:
            errors.add(field, _("请填写日期。"))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        errors.add(field, _("日期“%(value)s”格式应为 YYYY-MM-DD。") % {"value": value})
        return None


def _to_bool(value):
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "y", "是", "√", "有")


def clean_values(
    raw: dict[str, Any],
    *,
    units_by_key: dict[str, Unit] | None = None,
    categories_by_key: dict[str, Any] | None = None,
    prefix: str = "",
) -> tuple[dict[str, Any], FieldErrors]:
    """Checks one item's values. Returns ``(values, errors)``; ``errors`` is a FieldErrors."""
    errors = FieldErrors()
    units_by_key = units_by_key if units_by_key is not None else _units_by_key()
    categories_by_key = categories_by_key if categories_by_key is not None else _categories_by_key()
    f = lambda name: prefix + name  # noqa: E731
    values: dict[str, Any] = {}
    values["name"] = (raw.get("name") or "").strip()
    if not values["name"]:
        errors.add(f("name"), _("事项名称不能为空。"))
    values["list_type"] = _choice(
        errors, f("list_type"), raw.get("list_type") or ListType.STREET, ListType, _("清单类型")
    )
    values["power_type"] = _choice(errors, f("power_type"), raw.get("power_type") or "", PowerType, _("权力类型"))
    values["level"] = _choice(errors, f("level"), raw.get("level") or "", Level, _("层级"))
    values["status"] = _choice(errors, f("status"), raw.get("status") or DutyStatus.IN_FORCE, DutyStatus, _("状态"))
    values["basis_statute"] = (raw.get("basis_statute") or "").strip()
    values["basis_article"] = (raw.get("basis_article") or "").strip()
    values["basis_text"] = (raw.get("basis_text") or "").strip()
    values["how_to"] = (raw.get("how_to") or "").strip()
    values["keywords"] = "、".join(_split(str(raw.get("keywords") or "")))
    if not values["basis_statute"]:
        errors.add(f("basis_statute"), _("缺少设定依据：请填写法律法规或规范性文件名称。"))
    unit_value = raw.get("responsible_unit") or ""
    unit_value = unit_value.code if isinstance(unit_value, Unit) else str(unit_value).strip()
    values["responsible_unit"] = None
    if unit_value:
        values["responsible_unit"] = _unit(errors, f("responsible_unit"), unit_value, units_by_key)
    elif values["level"] not in (Level.COMMUNITY, Level.GRID):
        errors.add(f("responsible_unit"), _("街道和区级事项必须填写主办单位。"))
    collaborators = raw.get("collaborating_units") or []
    if isinstance(collaborators, str):
        collaborators = list(_split(collaborators))
    values["collaborating_units"] = []
    for value in collaborators:
        value = value.code if isinstance(value, Unit) else value
        unit = _unit(errors, f("collaborating_units"), value, units_by_key)
        if unit is not None:
            values["collaborating_units"].append(unit)
    categories = raw.get("categories") or []
    if isinstance(categories, str):
        categories = _split(categories)
    values["categories"] = []
    for value in categories:
        value = value.code if isinstance(value, _category_model()) else str(value).strip().replace(" ", "")
        cat = categories_by_key.get(value)
        if cat is None:
            errors.add(f("categories"), _("分类“%(value)s”不存在（请填写分类代码或完整路径）。") % {"value": value})
        elif cat.level != 3:
            errors.add(f("categories"), _("分类“%(value)s”不是最末一级分类。") % {"value": value})
        else:
            values["categories"].append(cat)
    for field, label, kind in (("response_hours", _("响应时限"), Decimal), ("completion_workdays", _("办结时限"), int)):
        value = raw.get(field)
        if value in (None, ""):
            values[field] = None
            continue
        try:
            number = kind(str(value).strip())
            if number <= 0:
                raise ValueError
            values[field] = number
        except (ValueError, InvalidOperation):
            errors.add(f(field), _("%(label)s必须是大于0的数字。") % {"label": label})
            values[field] = None
    values["needs_verification"] = _to_bool(raw.get("needs_verification"))
    values["full_enforcement"] = _to_bool(raw.get("full_enforcement"))
    values["effective_from"] = _to_date(errors, f("effective_from"), raw.get("effective_from"), required=True)
    values["effective_to"] = _to_date(errors, f("effective_to"), raw.get("effective_to"), required=False)
    if values["effective_from"] and values["effective_to"] and values["effective_to"] <= values["effective_from"]:
        errors.add(f("effective_to"), _("失效日期必须晚于生效日期。"))
    return values, errors


def _split(text):
    for sep in ("；", ";", "，", "、", "\n"):
        text = text.replace(sep, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def snapshot(version: DutyVersion) -> dict[str, Any]:
    """A version's values in the same plain shape ``clean_values`` returns (to compare)."""
    return {
        "name": version.name,
        "list_type": version.list_type,
        "power_type": version.power_type,
        "level": version.level,
        "status": version.status,
        "basis_statute": version.basis_statute,
        "basis_article": version.basis_article,
        "basis_text": version.basis_text,
        "how_to": version.how_to,
        "keywords": version.keywords,
        "responsible_unit": version.responsible_unit,
        "collaborating_units": sorted(version.collaborating_units.all(), key=lambda u: u.code),
        "categories": sorted(version.categories.all(), key=lambda c: c.code),
        "response_hours": version.response_hours,
        "completion_workdays": version.completion_workdays,
        "needs_verification": version.needs_verification,
        "full_enforcement": version.full_enforcement,
        "effective_from": version.effective_from,
        "effective_to": version.effective_to,
    }


def _comparable(values):
    out = dict(values)
    out["collaborating_units"] = sorted(u.code for u in values["collaborating_units"])
    out["categories"] = sorted(c.code for c in values["categories"])
    out["responsible_unit"] = values["responsible_unit"].code if values["responsible_unit"] else None
    for key in ("response_hours",):
        out[key] = Decimal(out[key]).normalize() if out[key] is not None else None
    return out


def _write_version(item, values, user, reason, approval_doc, at):
    last = item.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = DutyVersion(
        item=item,
        number=last + 1,
        changed_by=user if user is not None and user.is_authenticated else None,
        changed_at=at,
        reason=reason,
        approval_doc=approval_doc,
        **{k: v for k, v in values.items() if k not in ("categories", "collaborating_units")},
    )
    version.save()
    version.categories.set(values["categories"])
    version.collaborating_units.set(values["collaborating_units"])
    version.search_text = " ".join(
        filter(
            None,
            [
                item.code,
                version.name,
                version.keywords,
                version.basis_statute,
                version.basis_article,
                version.basis_text,
                version.how_to,
                version.responsible_unit.name if version.responsible_unit else "",
                " ".join(c.path_name for c in values["categories"]),
                " ".join(u.name for u in values["collaborating_units"]),
            ],
        )
    )
    version.save(update_fields=["search_text"], _allow_update=True)
    item.current = version
    item.save(update_fields=["current"])
    # At once (this transaction routes by the new list) and again after the commit (a read in
    # between may have cached the list as it was).
    forget_cached_list()
    transaction.on_commit(forget_cached_list)
    return version


def _apply(user, code, values, reason, approval_doc, at):
    """Writes a new version if the values differ from the current one. Returns (version, change)."""
    item = DutyItem.objects.select_for_update(of=("self",)).select_related("current").filter(code=code).first()
    if item is None:
        item = DutyItem.objects.create(code=code)
        return _write_version(item, values, user, reason, approval_doc, at), "created"
    if item.current_id and _comparable(snapshot(item.current)) == _comparable(values):
        return item.current, "unchanged"
    return _write_version(item, values, user, reason, approval_doc, at), "updated"


def _check_change_reason(errors, reason):
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", _("请填写调整理由。"))
    return reason


@transaction.atomic
def save_duty(
    user: User,
    *,
    code: str,
    raw: dict[str, Any],
    reason: str,
    approval_doc: str = "",
    at: dt.datetime | None = None,
) -> DutyVersion:
    """Creates a duty item or writes its next version."""
    _require_admin(user)
    code = (code or "").strip()
    values, errors = clean_values(raw)
    if not code:
        errors.add("code", _("事项编码不能为空。"))
    reason = _check_change_reason(errors, reason)
    errors.raise_if_any()
    version, _change = _apply(user, code, values, reason, (approval_doc or "").strip(), at or timezone.now())
    return version


@transaction.atomic
def repeal_duty(
    user: User,
    *,
    code: str,
    reason: str,
    approval_doc: str = "",
    effective_to: dt.date | None = None,
    at: dt.datetime | None = None,
) -> DutyVersion:
    """Writes a version with status 已废止 (repealed), effective from ``effective_to`` (default today)."""
    _require_admin(user)
    item = DutyItem.objects.select_for_update(of=("self",)).select_related("current").filter(code=code).first()
    if item is None or item.current is None:
        raise NotFound(_("权责事项 %(code)s 不存在。") % {"code": code})
    errors = FieldErrors()
    reason = _check_change_reason(errors, reason)
    errors.raise_if_any()
    at = at or timezone.now()
    values = snapshot(item.current)
    values["status"] = DutyStatus.REPEALED
    values["effective_to"] = effective_to or timezone.localdate(at)
    if values["effective_to"] <= values["effective_from"]:
        values["effective_to"] = values["effective_from"] + dt.timedelta(days=1)
    return _write_version(item, values, user, reason, (approval_doc or "").strip(), at)


# --- Excel import ------------------------------------------------------------


@transaction.atomic
def import_rows(
    user: User,
    *,
    rows: Iterable[dict[str, Any]],
    reason: str,
    approval_doc: str = "",
    at: dt.datetime | None = None,
) -> dict[str, int]:
    """Imports item rows (dicts keyed by field, with ``code`` and ``row`` = line number).
    All or nothing: if any row has an error nothing is written and ``ValidationFailed``
    lists every error with its row. Returns counts of created / updated / unchanged."""
    _require_admin(user)
    units, categories = _units_by_key(), _categories_by_key()
    errors = FieldErrors()
    reason = _check_change_reason(errors, reason)
    cleaned = []
    seen: dict[str, int | None] = {}
    for raw in rows:
        line = raw.get("row")
        code = str(raw.get("code") or "").strip()
        prefix = f"第{line}行 "
        if not code:
            errors.add(prefix + "code", _("事项编码不能为空。"))
        elif code in seen:
            errors.add(
                prefix + "code", _("事项编码 %(code)s 与第%(other)s行重复。") % {"code": code, "other": seen[code]}
            )
        seen.setdefault(code, line)
        values, row_errors = clean_values(raw, units_by_key=units, categories_by_key=categories, prefix=prefix)
        errors.errors.extend(row_errors.errors)
        cleaned.append((code, values))
    if not cleaned and not errors:
        errors.add("file", _("文件中没有事项。"))
    errors.raise_if_any()
    at = at or timezone.now()
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for code, values in cleaned:
        _version, change = _apply(user, code, values, reason, (approval_doc or "").strip(), at)
        counts[change] += 1
    return counts
