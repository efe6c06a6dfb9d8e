"""Separate `python -m bot serve` instances on their own ports, as deploy/systemd/jianding-bot@.service
runs them: the environment of deploy/env.example (with the test's own database, data directory,
WeChat and clock), the data directory as working directory, output kept in a file for the report."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from bot.config import Settings
from tests.deploy.env_file import read_template


def deployment_env(data_dir: Path, database_url: str, **overrides: str) -> dict[str, str]:
    """deploy/env.example's values, then `overrides`; no setting inherited from the shell running the tests."""
    inherited = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    return {
        **inherited,
        **read_template().active,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


@dataclass
class Instance:
    port: int
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def stop(self, *, timeout: float = 20) -> None:
        if self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def _start(port: int, env: Mapping[str, str], directory: Path, out: IO[bytes]) -> Instance:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        cwd=env["DATA_DIR"],
        env=dict(env),
        stdout=out,
        stderr=out,
    )
    return Instance(port, process, directory / f"instance-{port}.log")


async def wait_healthy(instances: Sequence[Instance], *, timeout: float = 60) -> None:
    """Until each instance answers its own /healthz with its own pid; fails with its output if it exits."""
    async with httpx.AsyncClient(timeout=5) as probe:
        for instance in instances:
            for _ in range(int(timeout / 0.05)):
                if instance.process.returncode is not None:
                    raise AssertionError(f"instance {instance.port} exited:\n{instance.output()}")
                with contextlib.suppress(httpx.TransportError):
                    response = await probe.get(f"{instance.base_url}/healthz")
                    if response.status_code == 200 and response.json()["worker"] == instance.pid:
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"instance {instance.port} not healthy:\n{instance.output()}")


@contextlib.asynccontextmanager
async def running_instances(
    ports: Sequence[int], env: Mapping[str, str], directory: Path
) -> AsyncIterator[list[Instance]]:
    """The instances, started together (as systemd starts them) and healthy; every one stopped at the end."""
    with contextlib.ExitStack() as files:
        outputs = [files.enter_context((directory / f"instance-{port}.log").open("wb")) for port in ports]
        started: list[Instance] = []
        try:
            for port, out in zip(ports, outputs, strict=True):
                started.append(await _start(port, env, directory, out))
            await wait_healthy(started)
            yield started
        finally:
            await asyncio.gather(*(instance.stop() for instance in started))


@contextlib.contextmanager
def reported_on_failure(sources: Mapping[str, Callable[[], str]]) -> Iterator[None]:
    """Prints the end of each source (nginx's error log, an instance's output) when the block fails.
    `sources` may grow inside the block: what has started by the time of the failure is reported."""
    try:
        yield
    except BaseException:
        for title, read in list(sources.items()):
            print(f"\n===== {title} =====\n{read()[-6000:]}")
        raise
