"""Background imports of large files, run by ``jiedao worker`` through Django's tasks API."""

import logging

from django_tasks import task

from . import services

logger = logging.getLogger("jiedao.worker")


@task()
def import_file_task(run_id):
    """Imports a queued file (all or nothing) and records the outcome on its ImportRun."""
    run = services.run_queued_import(run_id)
    if run is not None:
        logger.info("registry import %s: %s %s", run.pk, run.state, run.counts)
        return {"state": run.state, "counts": run.counts}
    return None
