"""What several benchmarks share: the machine they ran on, the checkout, a scratch database, a port."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.database import Database

ROOT = Path(__file__).resolve().parents[1]
"""The checkout: benchmarks run from one, and the child processes they start import from it."""


def machine() -> str:
    """CPU model, cores, Python and load, to print beside the figures."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.2f} at start"
    )


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's) with the checkout on PYTHONPATH, so that a child process
    started from any directory imports `benchmarks` as this one does."""
    out = dict(os.environ if env is None else env)
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), out.get("PYTHONPATH", "")) if p)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def prepare_database(url: str) -> Database:
    """A migrated, empty database at `url`. A SQLite file must not exist yet; on PostgreSQL the
    `public` schema is dropped first, everything in it lost: only ever a scratch database."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        # Counts and reference numbers must start from zero; a SQLite file is never wiped, only refused.
        if parsed.database not in (None, "", ":memory:") and Path(parsed.database).exists():
            raise ValueError(f"SQLite 文件已存在：{parsed.database}。请指定一个尚不存在的文件，或不加 --database-url。")
    else:
        print(f"清空 {parsed.render_as_string(hide_password=True)} 的 public 模式")
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await db.dispose()
    db = Database(url)
    await db.migrate()
    return db
