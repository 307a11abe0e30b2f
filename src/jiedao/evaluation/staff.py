"""考核建议: the street's assessment opinion of its seconded staff (派驻人员 — the people of a
district department's unit stationed at the street, ``Unit.Kind.DEPARTMENT``), one per person
and period (a month, quarter or year), recorded by a leader and exported as CSV or Excel for
the person's department.

Writes (``record_assessment``) check the permission first (``evaluation.assess``: leaders and
administrators), then the person, the period, the grade and the opinion, and write nothing
unless all are right."""

import csv
import datetime as dt
import io

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from jiedao.common.errors import FieldErrors, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Unit, User
from jiedao.org.selectors import in_streets
from jiedao.workcal.calendar import SHANGHAI

from . import periods
from .models import Assessment

MAX_OPINION = 1000
MIN_OPINION = 4


def seconded_staff(user: User) -> QuerySet[User]:
    """The active seconded staff of the streets ``user`` sees, by department and name."""
    return (
        User.objects.filter(is_active=True, unit__kind=Unit.Kind.DEPARTMENT, unit__active=True)
        .filter(in_streets(user, "unit__street"))
        .select_related("unit")
        .order_by("unit__code", "username")
    )


def departments(user: User) -> QuerySet[Unit]:
    """The departments with seconded staff in the streets ``user`` sees."""
    return Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, active=True).filter(in_streets(user)).order_by("code")


@transaction.atomic
def record_assessment(
    actor: User,
    *,
    person: str,
    period: str,
    grade: str,
    opinion: str,
    now: dt.datetime | None = None,
) -> Assessment:
    """Record (or replace) the street's 考核建议 of a seconded person for a period."""
    permissions.require(actor, "evaluation.assess", _("只有街道领导或管理员可以录入考核建议。"))
    errors = FieldErrors()
    found = seconded_staff(actor).filter(username=(person or "").strip()).first()
    if found is None:
        errors.add("person", _("派驻人员：请选择本街道的一名区级部门派驻人员。"))
    key = ""
    try:
        parsed = periods.parse(period)
    except ValidationFailed as exc:
        for error in exc.errors:
            errors.add("period", _("考核期：%(message)s") % {"message": error["message"]})
    else:
        if parsed.kind == "week":
            errors.add("period", _("考核期：应为月、季度或年度，如 2026-10、2026-Q4 或 2026。"))
        key = parsed.key
    if grade not in Assessment.Grade.values:
        errors.add("grade", _("考核等次：请选择优秀、称职、基本称职或不称职。"))
    opinion = (opinion or "").strip()
    if len(opinion) < MIN_OPINION:
        errors.add("opinion", _("考核建议：请至少写 %(min)d 个字，说明依据。") % {"min": MIN_OPINION})
    elif len(opinion) > MAX_OPINION:
        errors.add("opinion", _("考核建议：不能超过 %(max)d 个字。") % {"max": MAX_OPINION})
    errors.raise_if_any()
    assert found is not None and found.unit is not None  # checked above
    row, _created = Assessment.objects.update_or_create(
        person=found,
        period=key,
        defaults={
            "unit": found.unit,
            "grade": grade,
            "opinion": opinion,
            "entered_by": actor,
            "entered_at": now or timezone.now(),
        },
    )
    return row


def assessments(user: User, *, unit: str = "", period: str = "") -> QuerySet[Assessment]:
    """The 考核建议 of the streets ``user`` sees, of one department (unit code) and period if given."""
    qs = Assessment.objects.filter(in_streets(user, "unit__street")).select_related("person", "unit", "entered_by")
    if unit:
        qs = qs.filter(unit__code=unit)
    if period:
        qs = qs.filter(period=period)
    return qs.order_by("unit__code", "-period", "person__username")


def export_headers() -> list[str]:
    return [_("派驻部门"), _("派驻人员"), _("考核期"), _("考核等次"), _("考核建议"), _("录入人"), _("录入时间")]


def export_rows(rows: QuerySet[Assessment]) -> list[list[str]]:
    return [
        [
            row.unit.name,
            str(row.person),
            row.period,
            str(row.get_grade_display()),
            row.opinion,
            str(row.entered_by),
            row.entered_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        ]
        for row in rows
    ]


def as_csv(rows: QuerySet[Assessment]) -> bytes:
    """CSV with a byte-order mark, so that Excel opens the Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(export_headers())
    writer.writerows(export_rows(rows))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(rows: QuerySet[Assessment]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("考核建议")
    sheet.append(export_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in export_rows(rows):
        sheet.append(row)
    for letter, width in zip("ABCDEFG", (20, 12, 10, 10, 60, 12, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
