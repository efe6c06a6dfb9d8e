"""The data directory and the SQLite files in it, readable by the server's own user only.

The database holds names, masked transcripts and ciphertexts; anyone who can read the file can copy
it away whatever the encryption. SQLite creates its -wal and -shm files with the database file's own
mode, so making that file 0600 before SQLite first opens it covers all three."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> None:
    """Creates `path` (and its parents) with mode 0700; an existing one of ours that others can
    enter is narrowed to 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _narrow(path, DIR_MODE)


def private_sqlite_file(path: Path) -> None:
    """Creates the database file 0600 if it is missing (so SQLite's -wal and -shm follow), and
    narrows an existing one and its -wal and -shm to 0600."""
    private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            _narrow(file, FILE_MODE)


def _narrow(path: Path, mode: int) -> None:
    if os.name == "nt":
        return  # no POSIX mode bits
    st = path.stat()
    if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, mode)
        log.info("narrowed %s to mode %04o: it held personal data others could read", path, mode)
