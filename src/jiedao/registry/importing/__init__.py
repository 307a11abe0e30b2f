"""Imports of persons, households and buildings from Excel or CSV files (一户一档导入).

- Only administrators import (``registry.import``); the kinds and their columns are those of
  the downloadable templates (``sheets``).
- All or nothing per file: every row is checked first (``checks``) and the file is refused
  with a row-by-row report if any row breaks a rule; only a clean file is written
  (``writing``), in one transaction, by the merge rules of 一数一源 (``services.merging``).
- Every import is an ``ImportRun``: who, which file, which source (the file name when none
  is given), how far it got, what it wrote or why it was refused.
- The import page imports files of up to ``SYNC_IMPORT_ROWS`` data rows at once; larger files
  wait in the data folder (never under the public media folder) for the worker
  (``import_file_task``), and the page shows their progress.
"""

import logging
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from jiedao.common.errors import ValidationFailed
from jiedao.common.lifecycle import assign_status
from jiedao.org import permissions
from jiedao.org.models import User

from .. import sheets
from ..models import ImportRun
from ..services.merging import clean_source
from .checks import check_buildings, check_households, check_persons
from .writing import Writer, apply_buildings, apply_households, apply_persons

logger = logging.getLogger("jiedao.registry")
worker_log = logging.getLogger("jiedao.worker")

# Files with more data rows than this are imported by the worker, with progress shown.
SYNC_IMPORT_ROWS = 2000
PROGRESS_EVERY = 200
MAX_KEPT_ERRORS = 2000
# An import run moves by itself (queued → running → done, refused or failed), through the
# lifecycle engine's door for the system's own moves.
STATE = "state"

CHECKS = {"persons": check_persons, "households": check_households, "buildings": check_buildings}
APPLY = {"persons": apply_persons, "households": apply_households, "buildings": apply_buildings}


class Progress:
    """Calls ``callback(phase, done, total)`` every ``PROGRESS_EVERY`` rows (and when forced)."""

    def __init__(self, callback, total):
        self.callback, self.total = callback, total

    def __call__(self, phase, done, force=False):
        if self.callback and (force or done % PROGRESS_EVERY == 0):
            self.callback(phase, done, self.total)


def _read_input(file):
    if isinstance(file, (bytes, bytearray)):
        return bytes(file), ""
    if isinstance(file, (str, Path)):
        path = Path(file)
        try:
            return path.read_bytes(), path.name
        except FileNotFoundError:
            raise ValidationFailed("file", _("文件不存在：%(path)s") % {"path": path}) from None
    if hasattr(file, "seek"):
        file.seek(0)
    return file.read(), os.path.basename(getattr(file, "name", "") or "")


def _check_import_args(user, kind):
    permissions.require(user, "registry.import", _("只有系统管理员可以导入基础数据。"))
    if kind not in CHECKS:
        raise ValidationFailed("kind", _("导入类型应为 persons（人员）、households（户）或 buildings（楼栋）。"))


def import_file(
    user: User,
    *,
    kind: str,
    file,
    source: str | None = None,
    filename: str | None = None,
    progress=None,
    run: ImportRun | None = None,
) -> ImportRun:
    """Imports a persons / households / buildings file (.xlsx or .csv), all or nothing.

    ``file`` is a path, bytes or a file object; ``source`` names where the data comes
    from (公安人口库, 社区走访 …; the file name when empty). ``progress(phase, done,
    total)`` is called as rows are checked (phase ``check``) and written (``write``).
    Returns the finished :class:`ImportRun`; raises ValidationFailed with one error
    per bad cell (``第N行 列名``) and writes nothing but the refused run."""
    _check_import_args(user, kind)
    data, name = _read_input(file)
    filename = os.path.basename(filename or name or "upload")
    source = clean_source(source, fallback=filename)
    if run is None:
        run = ImportRun.objects.create(
            kind=kind, filename=filename[:200], source=source, user=user, state=ImportRun.State.RUNNING
        )
    today = timezone.localdate()
    try:
        rows = sheets.read_rows(kind, data, filename)
        run.total_rows = len(rows)
        report = Progress(progress, len(rows))
        report("check", 0, force=True)
        prepared = CHECKS[kind](rows, report, today)
        report("check", len(rows), force=True)
        now = timezone.now()
        with transaction.atomic():
            writer = Writer(source=source, now=now, run=run)
            report("write", 0, force=True)
            APPLY[kind](prepared, writer, report)
            writer.flush_conflicts()
            report("write", len(rows), force=True)
            run.counts = writer.counts
            assign_status(run, ImportRun.State.DONE, STATE)
            run.done_rows = len(rows)
            run.finished_at = timezone.now()
            run.errors = []
            run.save()
    except ValidationFailed as exc:
        _refuse(run, exc.errors)
        raise
    except IntegrityError:
        logger.exception("registry import %s failed", run.pk)
        error = {
            "row": None,
            "column": "",
            "field": "file",
            "message": _("导入时数据被其他操作同时修改，未写入任何数据，请重新导入。"),
        }
        _refuse(run, [error])
        raise ValidationFailed(errors=[error]) from None
    except Exception:
        assign_status(run, ImportRun.State.FAILED, STATE)
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "finished_at"])
        raise
    return run


def _refuse(run, errors):
    assign_status(run, ImportRun.State.REFUSED, STATE)
    run.errors = list(errors)[:MAX_KEPT_ERRORS]
    run.counts = {"error_count": len(errors)}
    run.finished_at = timezone.now()
    run.save()


def imports_dir() -> Path:
    """Where files wait for the worker: inside the data folder, never under the public media folder."""
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_import(user: User, *, kind: str, upload, source: str | None = None) -> ImportRun:
    """The import page: small files are imported at once; larger ones are queued for
    the worker (``jiedao worker``), whose progress the page shows. Returns the run."""
    _check_import_args(user, kind)
    data, name = _read_input(upload)
    filename = os.path.basename(name or "upload")
    source = clean_source(source, fallback=filename)
    rows = sheets.read_rows(kind, data, filename)
    if len(rows) <= SYNC_IMPORT_ROWS:
        return import_file(user, kind=kind, file=data, source=source, filename=filename)
    stored = imports_dir() / f"{uuid.uuid4().hex}{Path(filename).suffix.lower()}"
    stored.write_bytes(data)
    os.chmod(stored, 0o600)
    run = ImportRun.objects.create(
        kind=kind,
        filename=filename[:200],
        source=source,
        user=user,
        state=ImportRun.State.QUEUED,
        total_rows=len(rows),
        stored_file=str(stored),
    )
    transaction.on_commit(lambda: import_file_task.enqueue(run.pk))
    return run


def run_queued_import(run_id: int) -> ImportRun | None:
    """Runs a queued import (called by the worker). Returns the run, refused or done."""
    run = ImportRun.objects.select_related("user").filter(pk=run_id).first()
    if run is None or run.state != ImportRun.State.QUEUED:
        return run
    assign_status(run, ImportRun.State.RUNNING, STATE)
    run.phase = "check"
    run.save(update_fields=[STATE, "phase"])

    def progress(phase, done, total):
        ImportRun.objects.filter(pk=run.pk).update(phase=phase, done_rows=done)

    stored = Path(run.stored_file)
    try:
        import_file(
            run.user,
            kind=run.kind,
            file=stored,
            source=run.source,
            filename=run.filename,
            progress=progress,
            run=run,
        )
    except ValidationFailed:
        pass
    finally:
        stored.unlink(missing_ok=True)
        ImportRun.objects.filter(pk=run.pk).update(stored_file="")
    run.refresh_from_db()
    return run


@task()
def import_file_task(run_id):
    """Imports a queued file (all or nothing) and records the outcome on its ImportRun."""
    run = run_queued_import(run_id)
    if run is not None:
        worker_log.info("registry import %s: %s %s", run.pk, run.state, run.counts)
        return {"state": run.state, "counts": run.counts}
    return None
