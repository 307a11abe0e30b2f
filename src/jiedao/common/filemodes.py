"""Files only the installation's own user may open.

The data directory holds the SQLite database, uploads, queued imports, backups and (by
default) the key directory. Whatever the umask, what Jiedao creates there is owner-only:
directories 0700, files 0600. A directory or file that already exists keeps the mode the
operator gave it; ``jiedao check`` reports one that other users can read (``exposed``).

This module imports nothing that needs Django to be set up: the settings use it."""

import os
import stat
import tempfile
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path) -> Path:
    """``path`` as a directory, created owner-only (with any missing parents) if it does not exist."""
    path = Path(path)
    try:
        path.mkdir(parents=True, mode=DIRECTORY_MODE)
    except FileExistsError:
        return path
    os.chmod(path, DIRECTORY_MODE)  # mkdir's mode passes through the umask
    return path


def create_private_file(path) -> bool:
    """Create ``path`` as an empty owner-only file unless it exists; whether it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private_file(path, lines, header="", exclusive=False) -> bool:
    """Write ``lines`` to ``path`` with mode 0600, atomically: readers see the old file or the
    new one, never half of one. The directory is made owner-only (0700) when Jiedao can. With
    ``exclusive`` an existing file is kept (two processes starting at once end up with the
    same content); returns whether it wrote."""
    path = Path(path)
    private_directory(path.parent)
    try:
        os.chmod(path.parent, DIRECTORY_MODE)
    except OSError:  # a directory we do not own (e.g. mounted): its mode is the operator's
        pass
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(header + "".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(temp, path)
            except FileExistsError:
                return False
            return True
        os.replace(temp, path)
        temp = None
        return True
    finally:
        if temp is not None and os.path.exists(temp):
            os.unlink(temp)


def read_lines(path) -> list[str]:
    """The lines of a key file, without blank lines and ``#`` comments."""
    return [
        line.strip()
        for line in Path(path).read_text(encoding="ascii").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def exposed(path) -> bool:
    """Whether other users (neither the owner nor the group) can open ``path``: it exists, its
    mode grants "others" some access, and they can pass through every directory above it."""
    path = Path(path).absolute()
    try:
        if not path.stat().st_mode & stat.S_IRWXO:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False
