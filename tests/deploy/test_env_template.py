"""deploy/env.example names every setting of `bot.config.Settings`, and only those; secrets are
placeholders; and the values it sets make valid production settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from tests.deploy.env_file import TEMPLATE, read_template


def _env_name(field: str) -> str:
    return field.upper()


def test_the_template_lists_every_setting_and_no_other() -> None:
    template = read_template()
    assert not template.problems, "\n".join(template.problems)
    known = {_env_name(name) for name in Settings.model_fields}
    missing = sorted(known - template.names)
    unknown = sorted(template.names - known)
    assert not missing, f"deploy/env.example lacks {missing}: add a line each, with a comment, for operators"
    assert not unknown, f"deploy/env.example names settings bot/config.py does not have: {unknown}"


def test_secrets_are_placeholders_only() -> None:
    template = read_template()
    secrets = {_env_name(name) for name, info in Settings.model_fields.items() if "SecretStr" in str(info.annotation)}
    assert "WECHAT_APP_SECRET" in secrets and "PII_KEY" in secrets
    assert not secrets & set(template.active), "a secret has a value in the template: leave it commented out"
    for name in secrets:
        assert template.commented[name].startswith("<"), f"{name}: a placeholder such as <…>, never a value"
    placeholders = [name for name, value in template.active.items() if "<" in value]
    assert not placeholders, f"placeholders set as values: {placeholders}"


def test_the_values_make_valid_production_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(_env_name(name), raising=False)
    # The file as pydantic-settings reads a .env file (python-dotenv), as well as systemd would.
    settings = Settings(_env_file=TEMPLATE)  # type: ignore[call-arg]
    template = read_template()
    assert settings.migrate_on_start is False
    assert settings.admin_two_step_required is True
    assert settings.effective_database_url.startswith("postgresql+asyncpg://")
    assert settings.data_dir == Path("/var/lib/jianding-bot")
    assert settings.trusted_host_list == ["bot.example.cn", "127.0.0.1"]
    # Each value reached its field as written: no quote left over, no value dropped by the reader.
    for name, value in template.active.items():
        field = name.lower()
        if field not in Settings.model_fields:
            continue  # reported by the first test
        read = getattr(settings, field)
        shown = read.get_secret_value() if isinstance(read, SecretStr) else read
        assert str(shown).lower() == value.lower() or _same_number(shown, value), (name, shown, value)


def _same_number(read: object, value: str) -> bool:
    try:
        return isinstance(read, int | float) and float(value) == float(read)
    except ValueError:
        return False


def test_the_production_quota_and_migration_lines_are_there() -> None:
    template = read_template()
    assert template.active["MIGRATE_ON_START"] == "false"
    assert template.active["WECHAT_DAILY_QUOTA_TEMPLATE"] == "100000"
    assert template.active["WECHAT_DAILY_QUOTA_CUSTOM"] == "500000"


def test_a_shell_reads_the_values_alike() -> None:
    """docs/deployment.md runs commands as the service user by sourcing the file in sh (`set -a; . env`)."""
    shell = subprocess.run(
        ["sh", "-c", 'set -a; . "$1"; env -0', "sh", str(TEMPLATE)],
        capture_output=True,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
        timeout=30,
    )
    read = dict(item.split("=", 1) for item in shell.stdout.decode().split("\0") if "=" in item)
    template = read_template()
    assert {name: read.get(name) for name in template.active} == template.active
