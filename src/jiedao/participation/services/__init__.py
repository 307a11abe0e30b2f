"""Every write of 多元共治, split by sub-domain. Each public service a person calls takes the
acting user, then keyword arguments; checks the permission table first (403 whatever it names),
then — for the proposals, meetings, tracked actions and projects — the lifecycle's checks in the
engine's order (the action 422, the state 409, the scope 403, the note 422), then the input
(422); and changes the rows and writes the event row in one transaction. The system's own
writes take no acting person: ``award`` and ``issue`` (points for a configured act or verified
hours) and ``remind_overdue_actions`` (the worker's daily round).

- ``membership``: residents join their community; the deliberation council's members.
- ``proposals``: proposing, tabling, turning a case into a topic, supporting, withdrawing,
  rating a completed proposal.
- ``meetings``: scheduling, the agenda, seats and check-in, opening, minutes, closing,
  cancelling.
- ``actions``: the meeting's decisions and the tracked actions they create, progress,
  overdue reminders.
- ``surveys``: needs surveys, the needs and resources lists.
- ``projects``: the project library, the yearly vote, delivery.
- ``volunteering``: volunteers, activities, sign-up, check-in, verified hours.
- ``timebank``: hours deposited and drawn.
- ``points``: the double-entry points ledger, the configured acts, the reward desk.

The names below are the public services; callers import them from here."""

from .actions import decide, remind_overdue_actions, report_progress
from .meetings import add_participant, add_to_agenda, check_in, meeting_step, register, save_minutes, schedule_meeting
from .membership import add_council_member, end_council_member, join_community
from .points import add_reward, award, earn, ensure_point_rules, issue, redeem, spend, transfer
from .projects import cast_ballot, close_vote, create_project, open_vote, project_step
from .proposals import propose, rate_result, support, table_topic, topic_from_case, withdraw
from .surveys import add_need, add_resource, answer_survey, close_survey, create_survey
from .timebank import draw_time
from .volunteering import check_in_volunteer, create_activity, register_volunteer, sign_up, verify_hours

__all__ = [
    "add_council_member",
    "add_need",
    "add_participant",
    "add_resource",
    "add_reward",
    "add_to_agenda",
    "answer_survey",
    "award",
    "cast_ballot",
    "check_in",
    "check_in_volunteer",
    "close_survey",
    "close_vote",
    "create_activity",
    "create_project",
    "create_survey",
    "decide",
    "draw_time",
    "earn",
    "end_council_member",
    "ensure_point_rules",
    "issue",
    "join_community",
    "meeting_step",
    "open_vote",
    "project_step",
    "propose",
    "rate_result",
    "redeem",
    "register",
    "register_volunteer",
    "remind_overdue_actions",
    "report_progress",
    "save_minutes",
    "schedule_meeting",
    "sign_up",
    "spend",
    "support",
    "table_topic",
    "topic_from_case",
    "transfer",
    "verify_hours",
    "withdraw",
]
