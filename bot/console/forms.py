"""Reading what console forms and query strings send, and the one-time tokens that make a form
submitted twice (a double click, a resend after a timeout) act once."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

ONCE_FIELD = "once"
_ONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def form_text(form: FormData | Mapping[str, Any], field: str, *, limit: int = 2000) -> str:
    """A text field, stripped and cut at `limit` characters; "" when missing or not text."""
    value = form.get(field)
    return value.strip()[:limit] if isinstance(value, str) else ""


def page_number(value: str | None) -> int:
    """A ?page= value: a positive number, else 1."""
    return int(value) if value and value.isdigit() and 0 < int(value) < 100_000 else 1


def new_once_token() -> str:
    """A token for a form that must act at most once; the handler keys what it creates by it."""
    return secrets.token_urlsafe(16)


def once_token(form: FormData | Mapping[str, Any]) -> str | None:
    """The form's one-time token, or None when it is missing or malformed."""
    value = form.get(ONCE_FIELD)
    return value if isinstance(value, str) and _ONCE.fullmatch(value) else None


EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2099, 12, 31)
"""The dates staff may type. Year 1 or 9999 parse, then overflow date arithmetic and time zones."""


def typed_date(value: str) -> dt.date | None:
    """A YYYY-MM-DD date within EARLIEST…LATEST, else None."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None
