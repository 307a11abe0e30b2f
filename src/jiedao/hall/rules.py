"""Pure rules of the service hall that services and selectors both apply: the scopes of the
lifecycles in ``states`` — how a person stands to an application, a material, a rectification or
an appointment — and what a rating link proves. No writes; nothing is looked up but the
record's own rows.

- ``own_unit``: the user's unit is the unit that approves the application (or must fix the
  cause of its bad rating).
- ``applicant``: the signed-in resident who applied (for a material: applied for it).
- ``own``: the person who booked the appointment.
- A valid rating link of the application proves its applicant (``proof``): the engine's
  ``public`` scope, whoever holds it and whether or not they are signed in.

And the hall's half-hour slots with the booking limits (settings), which the booking service
applies and the free-slot list shows; and when a material need not be submitted (免提交):
only when the applicant's registry record holds the field the material proves.
"""

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext as _

from jiedao.common.lifecycle import Context
from jiedao.workcal.calendar import SHANGHAI, is_workday

from . import links
from .models import registry_field

OWN_UNIT, APPLICANT, OWN = "own_unit", "applicant", "own"


def own_unit(user, record, context: Context) -> bool:
    return bool(user.unit_id) and user.unit_id == record.unit_id


def applicant(user, app, context: Context) -> bool:
    return app.applicant_user_id is not None and app.applicant_user_id == user.pk


def material_applicant(user, row, context: Context) -> bool:
    return applicant(user, row.application, context)


def own_booking(user, appointment, context: Context) -> bool:
    return appointment.user_id == user.pk


def proof(app, token) -> Context:
    """What a rating link proves: whoever holds a valid link of ``app`` is its applicant."""
    return Context(proven=links.token_matches(app, token))


# --- appointments: the hall's slots and the booking limits -----------------------------------

SLOT_MINUTES = 30


def _hall_setting(name, default):
    return int(getattr(settings, "JIEDAO", {}).get(name, default))


def slot_capacity():
    """Bookings per half-hour slot of the hall (default 4)."""
    return _hall_setting("HALL_SLOT_CAPACITY", 4)


def booking_workdays():
    """How far ahead a slot may be booked, in working days after today (default 14)."""
    return _hall_setting("HALL_BOOKING_WORKDAYS", 14)


def booking_max_open():
    """Appointments one person may hold at a time that have not started yet (default 3)."""
    return _hall_setting("HALL_BOOKING_MAX_OPEN", 3)


def slots_of(day):
    """The half-hour slots of a working day within office hours (Shanghai time)."""
    if not is_workday(day):
        return []
    result = []
    for begin, end in settings.JIEDAO["OFFICE_HOURS"]:
        current = dt.datetime.combine(day, dt.time.fromisoformat(begin), SHANGHAI)
        stop = dt.datetime.combine(day, dt.time.fromisoformat(end), SHANGHAI)
        while current + dt.timedelta(minutes=SLOT_MINUTES) <= stop:
            result.append(current)
            current += dt.timedelta(minutes=SLOT_MINUTES)
    return result


# --- 免提交: only where the registry holds the field the material needs -----------------------


def _filled(person, field) -> bool:
    if field == "household":
        return person.household_id is not None
    if field == "relation":
        return person.household_id is not None and bool(person.relation)
    return bool(getattr(person, field, ""))


def exemption_source(material, person) -> str:
    """Where a material not to be submitted (免提交) comes from — "一户一档·户籍", with the
    source that recorded the field when the registry knows it — or "" when the applicant
    must bring it: the material is not shareable, the applicant has no registry record, no
    registry field stands in for the material, or the record leaves that field empty."""
    if not material.shared or person is None:
        return ""
    found = registry_field(material.name)
    if found is None or not _filled(person, found[0]):
        return ""
    field, label = found
    origin = ((person.sources or {}).get(field) or {}).get("source", "")
    if origin:
        return _("一户一档·%(field)s（%(source)s）") % {"field": label, "source": origin}
    return _("一户一档·%(field)s") % {"field": label}
