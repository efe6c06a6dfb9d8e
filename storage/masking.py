"""Masked forms of personal data, for replies, logs, the console and error messages."""

from __future__ import annotations

import re

_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9XxＸｘ])(?![0-9A-Za-z])|(?<!\d)(\d{15})(?!\d)")
# Candidates type full-width digits (１３８…) on Chinese keyboards: the patterns see half-width ones.
_HALF_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# Both patterns need at least 11 digits in a row (\d is any Unicode digit, full-width included):
# text without such a run, most text, is returned after one scan instead of three.
_ELEVEN_DIGITS = re.compile(r"\d{11}")


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
    """Masks every ID number (18 or 15 digits) and mobile number found in free text, full-width
    digits included (they come back half-width)."""
    if _ELEVEN_DIGITS.search(text) is None:
        return text
    text = text.translate(_HALF_WIDTH_DIGITS)
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


def mask_user_id(user_id: str) -> str:
    """oUs…er1: enough of a channel's user id (an openid, a chat id) to tell users apart, not to reach one."""
    return user_id if len(user_id) <= 6 else f"{user_id[:3]}…{user_id[-3:]}"
