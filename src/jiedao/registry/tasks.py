"""Background work of the registry, run by ``jiedao worker`` through Django's tasks API: the
import of a large file (``import_file_task``), defined beside the import it runs
(``registry.importing``) and named here as well, so that a run queued under this path is
still found."""

from .importing import import_file_task

__all__ = ["import_file_task"]
