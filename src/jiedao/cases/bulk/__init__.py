"""Writing many cases at once — the demo's simulated year, a hotline's imported history — the
way the services write one: the same routing (the street check included), the same numbers
from the day's counter, the same event log, personal data stored the same way.

``drafts``: a ``CaseDraft`` per case, moved only by the lifecycle table, with the fields and
events each step's service writes. ``writing``: ``CaseBatch`` / ``write_cases`` write drafts a
batch at a time, each batch in one transaction.

Bulk writes send no signals, notifications or webhooks, and check nobody's permission: what
they write happened before (a simulated past, an imported one), and their callers are the demo
builder and the import command, run by whoever runs the installation.
"""

from .drafts import RESTORE_ACTION, CaseDraft, Routes, StepRefused
from .writing import BATCH, CaseBatch, write_cases

__all__ = ["BATCH", "RESTORE_ACTION", "CaseBatch", "CaseDraft", "Routes", "StepRefused", "write_cases"]
