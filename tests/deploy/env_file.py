"""Reading deploy/env.example: the settings it sets, the ones it leaves commented out, and the values in
the one syntax systemd's EnvironmentFile= and python-dotenv (pydantic-settings' .env reader) agree on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "env.example"

ACTIVE = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)")
COMMENTED = re.compile(r"# ([A-Z][A-Z0-9_]*)=(.*)")
# No $ (dotenv expands ${…}), no backslash (both unescape, differently), no spaces outside quotes.
PORTABLE_VALUE = re.compile(r"""[^\s"'\\$`]*|"[^"\\$`]*"|'[^'\\]*'""")


@dataclass
class EnvTemplate:
    active: dict[str, str] = field(default_factory=dict)
    """NAME → value, quotes removed, for the lines that set a value."""
    commented: dict[str, str] = field(default_factory=dict)
    """NAME → placeholder, for the `# NAME=…` lines."""
    problems: list[str] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return set(self.active) | set(self.commented)


def read_template(path: Path = TEMPLATE) -> EnvTemplate:
    found = EnvTemplate()
    previous = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        active, commented = ACTIVE.fullmatch(line), COMMENTED.fullmatch(line)
        setting = active or commented
        if setting is not None:
            name, value = setting.groups()
            if name in found.names:
                found.problems.append(f"line {number}: {name} appears twice")
            if not previous.startswith("# ") or COMMENTED.fullmatch(previous) or ACTIVE.fullmatch(previous):
                found.problems.append(f"line {number}: {name} has no comment of its own on the line above")
            if active is not None:
                if not PORTABLE_VALUE.fullmatch(value):
                    found.problems.append(f"line {number}: {name}'s value needs quoting that systemd reads alike")
                found.active[name] = value[1:-1] if value[:1] in ("'", '"') else value
            else:
                found.commented[name] = value
        elif line and not line.startswith("#"):
            found.problems.append(f"line {number}: neither a setting nor a comment: {line!r}")
        previous = line
    return found
