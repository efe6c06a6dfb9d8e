"""The per-user cache of start-up tables: private, data only, and never trusted blindly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.disk_cache import DiskCache, private_directory

ROOT = Path(__file__).resolve().parents[2]


def is_int_list(value: object) -> bool:
    return isinstance(value, list) and all(type(v) is int for v in value)


def test_a_stored_value_is_read_back(tmp_path: Path) -> None:
    cache = DiskCache(private_directory(tmp_path / "cache"))
    cache.store("numbers", [1, 2, 3])
    assert cache.load("numbers", is_int_list) == [1, 2, 3]
    assert cache.load("missing", is_int_list) is None


def test_the_directory_is_created_private(tmp_path: Path) -> None:
    directory = private_directory(tmp_path / "a" / "cache")
    assert directory is not None and directory.stat().st_mode & 0o777 == 0o700
    DiskCache(directory).store("numbers", [1])
    assert all(p.stat().st_mode & 0o077 == 0 for p in directory.iterdir()), "files readable by this user only"


def test_a_directory_others_may_write_to_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert private_directory(shared) is None
    cache = DiskCache(None)
    cache.store("numbers", [1])  # keeps nothing, raises nothing
    assert cache.load("numbers", is_int_list) is None


@pytest.mark.parametrize("content", [b"\x80\x81 not json", b'{"a": 1}', b'[1, 2, "three"]'])
def test_a_file_that_does_not_parse_or_check_is_ignored(tmp_path: Path, content: bytes) -> None:
    cache = DiskCache(private_directory(tmp_path))
    path = cache.path("numbers")
    assert path is not None
    path.write_bytes(content)
    assert cache.load("numbers", is_int_list) is None


def test_prune_keeps_the_most_recent_files(tmp_path: Path) -> None:
    cache = DiskCache(private_directory(tmp_path))
    for n in range(5):
        cache.store(f"words-{n}", [n])
        path = cache.path(f"words-{n}")
        assert path is not None
        os.utime(path, (1_000_000 + n, 1_000_000 + n))
    cache.store("other", [9])
    cache.prune("words-", keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.v1.json", "words-3.v1.json", "words-4.v1.json"]


def test_the_analysed_texts_are_cached_under_the_same_name_in_every_process() -> None:
    """The memo's name is a fingerprint of the vocabulary; sets iterate in a different order in
    each process, and a fingerprint that followed it would never find its cache again."""
    script = (
        "from knowledge.analyzer import Analyzer, Lexicon\n"
        "print(Analyzer(Lexicon.load(), extra_terms=['电工', '钳工']).fingerprint())"
    )
    prints = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(prints) == 1, prints
