"""`python -m benchmarks.retention`: the retention job on 100,000 requests (SQLite).

Fills a database with the console benchmark's requests (encrypted, spread over two years, most of
the old ones refunded or rejected), then runs `python -m bot privacy run` in a fresh process with the
clock at the end of those two years, and prints how many requests it erased, how long it took and
the process's peak RSS; then runs it again, which must find nothing to do."""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import child_env, machine
from benchmarks.console import LAST, populate, prepare


def run_job(env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, what it printed) of one `privacy run` in a new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "privacy", "run"], env=env, capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # RUSAGE_CHILDREN reports the largest child so far: the first run sets it, the second may not move it.
    return seconds, max(peak, before) / 1024, done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(machine())
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        path = Path(tmp) / "bot.db"
        url = f"sqlite+aiosqlite:///{path}"
        key = secrets.token_bytes(32)
        asyncio.run(prepare(url, key))
        t0 = time.perf_counter()
        populate(path, key, args.requests, args.seed)
        print(f"filled: {args.requests:,} requests in {time.perf_counter() - t0:.1f} s")
        env = {
            **child_env(),
            "DATA_DIR": tmp,
            "DATABASE_URL": url,
            "PII_KEY": key.hex(),
            "BOT_NOW": LAST.strftime("%Y-%m-%dT%H:%M"),
            "LOG_LEVEL": "WARNING",
        }
        seconds, peak, said = run_job(env)
        erased = int(m.group(1)) if (m := re.search(r"删除 (\d+) 份", said)) else 0
        print(f"first run: {said}")
        print(
            f"  erased {erased:,} requests in {seconds:.1f} s for the whole command "
            f"({erased / seconds:,.0f} requests/s), peak RSS {peak:.0f} MiB"
        )
        again, _, said = run_job(env)
        print(f"second run: {said} — {again:.1f} s for the whole command")
    return 0


if __name__ == "__main__":
    sys.exit(main())
