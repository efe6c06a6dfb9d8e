"""What a field parser returns: a value, a reason to ask again, a question to confirm, or a stop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ok:
    """The input is valid. `display` is how the value is shown back (masked for ID numbers)."""

    value: Any
    display: str
    note: str = ""
    """Said once, before the next question, when the answer is taken (番禺区属于广州市，按…办理)."""


@dataclass(frozen=True)
class Invalid:
    """The input cannot be used; `message` tells the candidate why and what to type instead."""

    message: str


@dataclass(frozen=True)
class Confirm:
    """The input probably means `value`; ask `question` (是/否) before accepting it."""

    value: Any
    display: str
    question: str


@dataclass(frozen=True)
class Stop:
    """The request cannot go on (deadline passed, not eligible); the form ends with `message`."""

    message: str


Parsed = Ok | Invalid | Confirm | Stop
