"""deploy/systemd/: the instance template and the migration unit.

Without a running systemd (none here, nor in CI's container), `systemd-analyze verify` still loads the
units from files: it reports unknown keys and unparsable values, expands the instance name
(jianding-bot@8001), resolves Requires= (the migration unit must exist beside it) and checks that
ExecStart's program exists and is executable. So it runs on copies whose /opt/jianding-bot paths point
at this checkout and this interpreter. `systemd-analyze security --offline=true` scores the sandboxing
from the files alone. Neither can check what only a start shows (the user exists, the environment file
is readable, the sandbox lets Python run): docs/deployment.md starts them on the server and says how to
read the journal."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import build_parser
from tests.deploy.env_file import read_template

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
TEMPLATE = UNITS / "jianding-bot@.service"
MIGRATE = UNITS / "jianding-bot-migrate.service"
ANALYZE = shutil.which("systemd-analyze")
EXPOSURE_THRESHOLD = "20"
"""systemd-analyze's scale is 0–100 (shown divided by ten): 2.0 and below is "OK"; these score 1.7."""

needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def _settings(unit: Path) -> list[tuple[str, str]]:
    lines = unit.read_text(encoding="utf-8").splitlines()
    return [(k, v) for k, _, v in (line.partition("=") for line in lines if "=" in line and line[:1] not in "#;")]


def _copies(directory: Path) -> Path:
    """The units with the checkout's paths: systemd-analyze checks that ExecStart's program exists."""
    for unit in (TEMPLATE, MIGRATE):
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/jianding-bot/.venv/bin/python", sys.executable).replace(
            "/opt/jianding-bot", str(ROOT)
        )
        (directory / unit.name).write_text(text, encoding="utf-8")
    return directory


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=60, check=False)


@needs_analyze
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    units = _copies(tmp_path)
    done = _analyze("verify", "--man=no", str(units / "jianding-bot@8001.service"), str(units / MIGRATE.name))
    # Some findings (a misspelt Type=) are only printed: any output at all is a finding.
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


@needs_analyze
def test_the_sandbox_scores_ok_offline(tmp_path: Path) -> None:
    units = _copies(tmp_path)
    for unit in ("jianding-bot@8001.service", MIGRATE.name):
        done = _analyze("security", "--offline=true", f"--threshold={EXPOSURE_THRESHOLD}", str(units / unit))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def test_both_units_run_as_the_dedicated_user_in_the_hardened_sandbox() -> None:
    required = {
        ("User", "jianding"),
        ("Group", "jianding"),
        ("EnvironmentFile", "/etc/jianding-bot/env"),
        ("StateDirectory", "jianding-bot"),
        ("StateDirectoryMode", "0700"),
        ("UMask", "0077"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/var/lib/jianding-bot"),
        ("ProtectHome", "true"),
        ("PrivateTmp", "true"),
        ("NoNewPrivileges", "true"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("CapabilityBoundingSet", ""),
        ("Environment", "DATA_DIR=/var/lib/jianding-bot"),
    }
    for unit in (TEMPLATE, MIGRATE):
        missing = required - set(_settings(unit))
        assert not missing, f"{unit.name} lacks {sorted(missing)}"
    # The data directory the units prepare is the one the environment file names.
    assert read_template().active["DATA_DIR"] == "/var/lib/jianding-bot"


def test_instances_serve_on_loopback_after_the_migration() -> None:
    instance, migrate = dict(_settings(TEMPLATE)), dict(_settings(MIGRATE))
    assert instance["ExecStart"] == "/opt/jianding-bot/.venv/bin/python -m bot serve --host 127.0.0.1 --port %i"
    assert instance["Restart"] == "on-failure"
    assert instance["Requires"] == MIGRATE.name and MIGRATE.name in instance["After"].split()
    assert migrate["ExecStart"] == "/opt/jianding-bot/.venv/bin/python -m bot migrate"
    assert (migrate["Type"], migrate["RemainAfterExit"]) == ("oneshot", "yes")
    # The command lines the units run are ones the CLI takes.
    parser = build_parser()
    served = parser.parse_args(["serve", "--host", "127.0.0.1", "--port", "8001"])
    assert (served.host, served.port, served.workers) == ("127.0.0.1", 8001, 1)
    assert parser.parse_args(["migrate"]).command == "migrate"
