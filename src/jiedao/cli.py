"""The ``jiedao`` command: Django's management commands under one name.

``jiedao demo``, ``jiedao serve``, ``jiedao worker``, ``jiedao workdays add …`` and
every Django command (``jiedao migrate``, ``jiedao createsuperuser`` …).
"""

import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    # After DJANGO_SETTINGS_MODULE is set: the command line must not import Django before it.
    from django.core.management import execute_from_command_line  # noqa: PLC0415 (settings first)

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "jiedao"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
