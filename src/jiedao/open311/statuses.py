"""Our case states in Open311's words.

GeoReport v2 knows two states, ``open`` and ``closed``. The updates extension
(``servicerequestupdates``) uses the longer list that FixMyStreet clients understand.
The table is documented in docs/open311.md; keep both in step.

| our status       | 中文    | Open311 | extended status     |
| ---------------- | ------- | ------- | ------------------- |
| ``new``          | 待派单  | open    | open                |
| ``dispatched``   | 待响应  | open    | action_scheduled    |
| ``returned``     | 已退单  | open    | internal_referral   |
| ``in_progress``  | 办理中  | open    | in_progress         |
| ``verifying``    | 待核查  | open    | investigating       |
| ``rating``       | 待回访  | open    | fixed               |
| ``closed``       | 已结案  | closed  | closed              |
| ``merged``       | 已并案  | closed  | duplicate           |
| ``voided``       | 无效来电 | closed  | no_further_action   |
"""

from django.utils.translation import gettext_lazy as _

from jiedao.cases.models import OPEN_STATUSES, Status

OPEN, CLOSED = "open", "closed"

STATUS = {status: (OPEN if status in OPEN_STATUSES else CLOSED) for status in Status.values}

EXTENDED = {
    Status.NEW: "open",
    Status.DISPATCHED: "action_scheduled",
    Status.RETURNED: "internal_referral",
    Status.IN_PROGRESS: "in_progress",
    Status.VERIFYING: "investigating",
    Status.RATING: "fixed",
    Status.CLOSED: "closed",
    Status.MERGED: "duplicate",
    Status.VOIDED: "no_further_action",
}
assert set(EXTENDED) == set(Status.values), "every status needs an extended Open311 status"

# Every extended status a client may send; the ones without a state of ours
# (not_councils_responsibility, no_further_action) are recorded as sent.
EXTENDED_STATUSES = (
    "open",
    "investigating",
    "in_progress",
    "action_scheduled",
    "fixed",
    "closed",
    "duplicate",
    "not_councils_responsibility",
    "no_further_action",
    "internal_referral",
)
CLOSING_EXTENDED = {"fixed", "closed", "duplicate", "not_councils_responsibility", "no_further_action"}

# Our states grouped by Open311 status, for the ``status`` filter.
BY_STATUS = {
    OPEN: tuple(OPEN_STATUSES),
    CLOSED: tuple(s for s in Status.values if s not in OPEN_STATUSES),
}

# The event written for an update a client posts.
UPDATE_ACTION = "open311_update"
UPDATE_ACTION_LABEL = _("外部系统更新")

# Events published as updates (servicerequestupdates): the steps a reporter would
# notice. Internal steps (notes, whistles, supervision, deadline sweeps) stay inside.
PUBLIC_ACTIONS = (
    "dispatch",
    "return",
    "respond",
    "resolve",
    "verify_pass",
    "verify_fail",
    "rate",
    "close",
    "merge",
    UPDATE_ACTION,
)


def status_of(status):
    return STATUS.get(status, OPEN)


def extended_of(status):
    return EXTENDED.get(status, "open")
