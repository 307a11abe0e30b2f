"""Background work of 智能分拨, run by ``jiedao worker``."""

import logging

from django_tasks import task

from . import services

logger = logging.getLogger("jiedao.worker")


@task()
def train_model_task(version_id):
    """Train a classifier version from the closed cases (started from the model page)."""

    version = services.train_version(version_id)
    logger.info("classifier v%s: %s", version.pk, version.state)
    return version.state


@task()
def train_starter_task(version_id):
    """Train the starter model from the messages shipped with the package (started from the model page)."""

    version = services.train_starter_version(version_id)
    logger.info("classifier v%s (starter): %s", version.pk, version.state)
    return version.state
