"""Tables that start-up would otherwise recompute, kept between runs in this user's cache directory.

What it buys: jieba's dictionary cut to its most frequent words, the pinyin table and the analysed
fact texts take about a second and a half of CPU to build, a few tens of milliseconds to read
(`python -m bot ask` starts in under a second instead of about two and a half).

Where: `platformdirs.user_cache_dir("jianding-bot")` (on Linux ~/.cache/jianding-bot, or under
$XDG_CACHE_HOME), created readable by this user only, and used only while it belongs to this user
and no one else may write to it: another local user cannot plant a file the bot would read, as
anyone could in the shared temp directory. The files are JSON, data only, checked on load; one that
does not parse or check is rebuilt, so at worst a bad file costs the time it was meant to save.
Files are written to a fresh temporary name and renamed, so concurrent first runs never read half
a file.

How to turn it off: nothing to configure; where the directory cannot be made safe (no home
directory, a read-only one) every run builds the tables itself. Deleting the directory is safe.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

APP_NAME = "jianding-bot"
FORMAT = 1
"""Bumped when a table's layout changes, so that files of another layout are not read."""


class DiskCache:
    """JSON files in one private directory; with no directory, it keeps nothing."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def path(self, name: str) -> Path | None:
        return self.directory / f"{name}.v{FORMAT}.json" if self.directory else None

    def load(self, name: str, valid: Callable[[Any], bool]) -> Any | None:
        """The value stored under `name`, if there is one and `valid` accepts it."""
        path = self.path(name)
        if path is None:
            return None
        try:
            value = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        return value if valid(value) else None

    def store(self, name: str, value: Any) -> None:
        """Stores `value` under `name`; a failure only costs the next run the time to rebuild it."""
        path = self.path(name)
        if path is None:
            return
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as exc:
            log.debug("cache %s not written: %s", name, exc)
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("cache %s not written: %s", name, exc)
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def prune(self, prefix: str, *, keep: int) -> None:
        """Deletes all but the `keep` most recently written files whose name starts with `prefix`."""
        if self.directory is None:
            return
        with contextlib.suppress(OSError):
            files = sorted(
                (p for p in self.directory.glob(f"{prefix}*.json") if p.is_file()),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            for old in files[keep:]:
                old.unlink(missing_ok=True)


def private_directory(directory: Path) -> Path | None:
    """`directory`, created if need be, when it is this user's alone; otherwise None."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        log.warning("cache directory %s is not private to this user: not used", directory)
        return None
    return directory


@cache
def user_cache() -> DiskCache:
    """This user's cache (looked up once per process)."""
    import platformdirs

    return DiskCache(private_directory(Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))))
