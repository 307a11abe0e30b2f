"""Pages of 多元共治. Residents (large type, elderly mode): proposals and supports, meetings
to register for, the yearly project vote, surveys, volunteering and my points (``residents``).
Staff of the community's committee: the desk, the meeting sheet (agenda, attendance at the
door, decisions, minutes) and progress reports (``deliberation``), projects and the points desk
(``desks``). Everyone, signed in or not: decisions and their progress. Each action of a page
parses its input with one form (``forms``), calls a service and shows domain errors on the form."""

from .common import PAGE
from .deliberation import action_progress, desk, meeting
from .desks import points_desk, projects_desk
from .residents import decisions, home, meetings, points, proposal, propose, similar, survey, volunteer, vote

__all__ = [
    "PAGE",
    "action_progress",
    "decisions",
    "desk",
    "home",
    "meeting",
    "meetings",
    "points",
    "points_desk",
    "projects_desk",
    "proposal",
    "propose",
    "similar",
    "survey",
    "volunteer",
    "vote",
]
