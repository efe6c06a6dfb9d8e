"""Masked forms of personal data, for replies, logs, the console and error messages."""

from __future__ import annotations

import re

from storage.personal_numbers import personal_numbers

# Every personal number has at least 11 digits, a few separators apart at most: text without such a
# run, most text, is returned after one scan.
_ELEVEN_DIGITS = re.compile(r"(?:[0-9０-９][^0-9０-９]{0,3}){11}")


def mask_id_number(value: str) -> str:
    """4401**********123X: the issuing area's first four digits and the last four stay readable."""
    v = value.strip()
    if len(v) <= 8:
        return "*" * len(v)
    return v[:4] + "*" * (len(v) - 8) + v[-4:]


def mask_phone(value: str) -> str:
    """138****5678."""
    v = value.strip()
    if len(v) < 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_name(value: str) -> str:
    """张*, 欧阳**: the family name stays, the given name is hidden."""
    v = value.strip()
    if len(v) <= 1:
        return "*" if v else ""
    keep = 2 if len(v) >= 4 else 1
    return v[:keep] + "*" * (len(v) - keep)


def mask_text(text: str) -> str:
    """Masks every ID number, mobile number and other long number in free text, however it was
    typed (spaces, dashes, +86, full-width digits; see storage.personal_numbers): the masked
    number replaces what was typed."""
    if _ELEVEN_DIGITS.search(text) is None:
        return text
    for number in reversed(personal_numbers(text)):
        masked = mask_phone(number.digits) if number.kind == "phone" else mask_id_number(number.digits)
        text = text[: number.start] + masked + text[number.end :]
    return text


def mask_user_id(user_id: str) -> str:
    """oUs…er1: enough of a channel's user id (an openid, a chat id) to tell users apart, not to reach one."""
    return user_id if len(user_id) <= 6 else f"{user_id[:3]}…{user_id[-3:]}"
