"""Two-step staff login: a six-digit code from an authenticator app (TOTP, RFC 6238, via pyotp).

An account enrolls with `python -m bot staff totp NAME`, which prints the secret as an otpauth://
address for the app; the secret is stored encrypted under the PII key. A code is good for its
30-second step and one step either side (phones' clocks drift), and once only: the step of the last
accepted code is stored, and a code of that step or an earlier one is refused."""

from __future__ import annotations

import hmac
import time

import pyotp

CONTEXT = "staff-totp"
"""The encryption context of a stored secret."""
ISSUER = "职业技能鉴定机器人"
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, *, last_step: int | None, at: float | None = None) -> int | None:
    """The step `code` belongs to, when it is right and newer than `last_step`; else None."""
    typed = "".join(code.split())
    if len(typed) != 6 or not typed.isascii() or not typed.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = int((time.time() if at is None else at) // STEP_SECONDS)
    for step in (now_step - 1, now_step, now_step + 1):
        if step > (last_step if last_step is not None else -1) and hmac.compare_digest(
            totp.at(step * STEP_SECONDS), typed
        ):
            return step
    return None
