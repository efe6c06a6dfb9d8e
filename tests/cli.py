"""`python -m bot ARGS`, as a subprocess or inside the test process.

A new interpreter costs a second or more of imports per command; a test that runs several commands
calls `bot.__main__.main` here instead, with what a subprocess would get: its environment, the
checkout as working directory, standard input from a string (not a terminal, like a pipe), the exit
code (argparse's exits and uncaught exceptions included) and both outputs. Each command family
keeps one test that runs the real `python -m bot` (`in_subprocess`)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

Result = subprocess.CompletedProcess[str]


def in_subprocess(
    *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None, timeout: float = 120
) -> Result:
    """`python -m bot ARGS` in a new interpreter; `env` is added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def in_process(*args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> Result:
    """`python -m bot ARGS` run by this interpreter, as `in_subprocess` would run it. Not from a
    coroutine: commands run their own event loop (use `asyncio.to_thread` there)."""
    from bot.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with _environment(env or {}), _logging_restored(), contextlib.chdir(ROOT):
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _stdin(stdin or ""):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse, or a command exiting early
                code = _exit_code(exc.code, err)
            except Exception:  # noqa: BLE001 - the interpreter would print it and exit with 1
                traceback.print_exc()
                code = 1
    return subprocess.CompletedProcess(["python", "-m", "bot", *args], code, out.getvalue(), err.getvalue())


def _exit_code(code: object, err: io.StringIO) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=err)
    return 1


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """Commands configure logging for their process (`bot.logs.configure_logging`): undone here,
    so that later tests keep pytest's handlers and levels."""
    root = logging.getLogger()
    named = [logging.getLogger(name) for name in ("alembic", "httpx")]
    handlers, level, levels = root.handlers[:], root.level, [logger.level for logger in named]
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger, saved_level in zip(named, levels, strict=True):
            logger.setLevel(saved_level)
