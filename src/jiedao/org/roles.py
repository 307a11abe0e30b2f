"""The roles of the system. A user's roles are Django groups named by these codes."""

from django.utils.translation import gettext_lazy as _

RESIDENT = "resident"
OPERATOR = "operator"
DISPATCHER = "dispatcher"
HANDLER = "handler"
GRID_WORKER = "grid"
LEADER = "leader"
ADMIN = "admin"
EVALUATOR = "evaluator"
DISTRICT = "district"

ROLE_LABELS = {
    RESIDENT: _("居民"),
    OPERATOR: _("话务员/窗口受理员"),
    DISPATCHER: _("派单员"),
    HANDLER: _("承办人"),
    GRID_WORKER: _("网格员"),
    LEADER: _("街道领导"),
    ADMIN: _("系统管理员"),
    EVALUATOR: _("考核评估员"),
    DISTRICT: _("区级用户"),
}

ALL_ROLES = tuple(ROLE_LABELS)
# Roles that work for the street office and see cases beyond their own reports.
STAFF_ROLES = frozenset({OPERATOR, DISPATCHER, HANDLER, GRID_WORKER, LEADER, ADMIN, EVALUATOR})
# Roles that see every case of the street.
STREET_WIDE_ROLES = frozenset({OPERATOR, DISPATCHER, LEADER, ADMIN, EVALUATOR})
# Roles that read across the streets of their district (a city installation): cases,
# figures and the ranking of streets. They do not act on cases.
DISTRICT_WIDE_ROLES = frozenset({DISTRICT})
