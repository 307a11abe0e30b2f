"""The assistance list (帮扶清单) and the visit measure (探访频次).

The special-care persons are those living or away (``CARED_STATUSES``) with at least one
active care tag, or one of the chosen tags. The list shows each with their visits in the last
four weeks; the measure divides the visits to them by their number and by the weeks. A
visit to a person who is no longer on the list does not count.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.audit import log_unmasked_view
from jiedao.common.errors import ValidationFailed

from ..models import CareTag, Person, PersonTag, Visit
from .persons import PERSON_RELATED, person_out, persons_with_places
from .scope import grid_or_error, may_unmask, require_read, scope_of, tag_or_error, visible_persons

# Persons counted in the assistance list and the visit measure.
CARED_STATUSES = (Person.Status.LIVING, Person.Status.AWAY)
RECENT_VISIT_DAYS = 28


def cared(qs, tags=None):
    qs = qs.filter(status__in=CARED_STATUSES)
    if tags:
        return qs.filter(Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag__in=tags)))
    return qs.filter(Exists(PersonTag.objects.filter(person=OuterRef("pk"), tag__active=True)))


def _parse_selection(user, grids, tags):
    grid_objs = [grid_or_error(user, code) for code in grids or [] if code]
    tag_objs = [tag_or_error(value) for value in tags or [] if value]
    return grid_objs, tag_objs


def assistance_list(user, *, grids=None, tags=None, now=None):
    """帮扶清单: the special-care persons (living or away, with at least one of ``tags`` —
    any active tag when none is chosen) of the chosen ``grids`` (grid codes; all the
    user's grids when none), each with their visits in the last four weeks."""
    require_read(user)
    now = now or timezone.now()
    grid_objs, tag_objs = _parse_selection(user, grids, tags)
    qs = cared(visible_persons(user), tag_objs)
    if grid_objs:
        qs = qs.filter(household__house__building__grid__in=grid_objs)
    since = now - dt.timedelta(days=RECENT_VISIT_DAYS)
    qs = qs.annotate(
        recent_visits=Count("visits", filter=Q(visits__at__gte=since, visits__at__lt=now)),
        last_visit=Max("visits__at", filter=Q(visits__at__lt=now)),
    )
    qs = qs.select_related(*PERSON_RELATED).prefetch_related(
        Prefetch("tags", queryset=CareTag.objects.filter(active=True).order_by("order", "code"))
    )
    return (
        list(
            qs.order_by(
                "household__house__building__grid__code",
                "household__house__building__code",
                "household__house__unit",
                "household__house__room",
                "id",
            )
        ),
        grid_objs,
        tag_objs,
    )


def assistance_rows(user, persons, *, unmask=False, purpose="assistance list"):
    """The list's rows for the reader. With ``unmask`` (only for those allowed) each person
    shown in full is written to the access log."""
    today = timezone.localdate()
    rows = []
    for person in persons:
        full = unmask and may_unmask(user, person)
        if full:
            shown = [name for name in ("id_number", "phone") if getattr(person, name)]
            if shown:
                log_unmasked_view(user, person, shown, purpose=purpose)
        row = person_out(person, unmasked=full, today=today)
        row["recent_visits"] = getattr(person, "recent_visits", 0)
        last = getattr(person, "last_visit", None)
        row["last_visit"] = timezone.localtime(last).strftime("%Y-%m-%d %H:%M") if last else ""
        rows.append(row)
    return rows


@dataclass
class VisitRate:
    visits: int
    persons: int
    weeks: float
    start: dt.datetime
    end: dt.datetime

    @property
    def rate(self):
        """Visits per special-care person per week, or None when nobody is on the list."""
        if not self.persons or not self.weeks:
            return None
        return self.visits / self.persons / self.weeks

    def as_dict(self):
        rate = self.rate
        return {
            "visits": self.visits,
            "persons": self.persons,
            "weeks": self.weeks,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "visits_per_person_per_week": None if rate is None else round(rate, 2),
        }


def visits_per_week(user, *, grids=None, tags=None, weeks=4, end=None):
    """探访频次: visits to special-care persons in the ``weeks`` before ``end``, divided by
    the number of special-care persons (living or away, tagged today) and by the weeks.
    Visits to persons who are no longer on the list do not count."""
    require_read(user)
    end = end or timezone.now()
    if not 1 <= weeks <= 104:
        raise ValidationFailed("weeks", _("周数应在1到104之间。"))
    start = end - dt.timedelta(weeks=weeks)
    grid_objs, tag_objs = _parse_selection(user, grids, tags)
    persons = cared(visible_persons(user), tag_objs)
    if grid_objs:
        persons = persons.filter(household__house__building__grid__in=grid_objs)
    person_ids = persons.values("pk")
    visits = Visit.objects.filter(person_id__in=person_ids, at__gte=start, at__lt=end).count()
    return VisitRate(visits=visits, persons=persons.count(), weeks=weeks, start=start, end=end)


def weekly_visit_rates(user, *, grids=None, tags=None, weeks=12, end=None):
    """The visit measure for each of the last ``weeks`` weeks (oldest first)."""
    end = end or timezone.now()
    return [
        visits_per_week(user, grids=grids, tags=tags, weeks=1, end=end - dt.timedelta(weeks=back))
        for back in range(weeks - 1, -1, -1)
    ]


def visit_candidates(user, limit=500):
    """The special-care persons a user may record visits for (their grids / community)."""
    require_read(user)
    persons = cared(visible_persons(user))
    if scope_of(user).everything and not user.has_role("admin"):
        return []
    return list(persons_with_places(persons).order_by("household__house__building__code", "id")[:limit])


def recent_visits_by(user, limit=10):
    return list(Visit.objects.filter(worker=user).select_related("person").order_by("-at")[:limit])
