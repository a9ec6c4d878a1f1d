"""Everything under ``$LABELER_HOME`` is readable by its owner only: folders 0700, files 0600.

The home holds the owner's API key and password (``credentials.json``), argilla-server's database with every
answer and its WAL / SHM files, the search index, Redis' dump and the logs. ``private_umask`` makes everything
the server code creates private from the start (the CLI while it starts or stops the server; the server's
processes run with the same umask); ``make_private`` repairs an existing install, where earlier versions left
world-readable files, on every ``labeler server start``.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


@contextmanager
def private_umask():
    """Create files 0600 and folders 0700 inside the block (the umask is process-wide: restored after)."""
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def make_private(home: Path) -> int:
    """Set folders under ``home`` (itself included) to 0700 and regular files to 0600; return how many changed.

    Links are not followed and neither they nor sockets are touched (Redis sets its socket's mode). Entries
    another user owns, or that vanish meanwhile, are left alone."""
    home = Path(home)
    if not home.is_dir() or home.is_symlink():
        return 0
    changed = _fix(home, DIR_MODE)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            changed += _fix(Path(root) / name, DIR_MODE)
        for name in files:
            changed += _fix(Path(root) / name, FILE_MODE)
    return changed


def _fix(path: Path, mode: int) -> int:
    try:
        st = os.lstat(path)
        wanted_kind = stat.S_ISDIR if mode == DIR_MODE else stat.S_ISREG
        if not wanted_kind(st.st_mode) or st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) == mode:
            return 0
        os.chmod(path, mode)
        return 1
    except (FileNotFoundError, PermissionError):
        return 0


def loose_entries(home: Path) -> list[str]:
    """Entries under ``home`` that others can read, write or enter (``"mode path"``); empty when all is private."""
    found = []
    if stat.S_IMODE(os.lstat(home).st_mode) & 0o077:
        found.append(f"{stat.S_IMODE(os.lstat(home).st_mode):o} .")
    for root, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(root) / name
            st = os.lstat(path)
            if (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)) and st.st_mode & 0o077:
                found.append(f"{stat.S_IMODE(st.st_mode):o} {path.relative_to(home)}")
    return sorted(found)
