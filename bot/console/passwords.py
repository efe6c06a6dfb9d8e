"""Staff passwords: argon2id hashes (argon2-cffi's default parameters unless a test passes cheaper ones)."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_SCORE = 3
"""zxcvbn's 0–4 guessability score a new password must reach: 3 is "safely unguessable" against an
online attack with throttling, which the console has. zxcvbn carries the common-password, name and
word lists and spots repeats, sequences, keyboard walks and dates."""
SCORED_LENGTH = 72
"""zxcvbn's own cap on what it scores (its time grows with the length); a longer password is long enough."""


def password_problem(password: str, *, name: str = "") -> str | None:
    """Why a new password for the account `name` is refused, in Chinese; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符。"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 个字符。"
    if not password.strip():
        return "密码不能全是空白字符。"
    if len(name) >= 3 and name.casefold() in password.casefold():
        return "密码不能包含账号名。"
    if zxcvbn(password[:SCORED_LENGTH], user_inputs=[name] if name else [])["score"] < MIN_SCORE:
        return "密码太容易被猜到（常见密码、重复或连续的字符、键盘顺序、日期等），请换一个更长、更不规则的密码。"
    return None


class Passwords:
    """Hashes and checks passwords. Checking runs in a worker thread: argon2 takes a noticeable
    fraction of a second by design, and the event loop must keep serving others meanwhile."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    async def hash_async(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches. With no hash (unknown user) a dummy hash is checked, so that
        a wrong name takes as long as a wrong password and does not reveal which names exist."""
        try:
            ok = self.hasher.verify(password_hash or self._dummy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self.verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def warm_up(self) -> None:
        """Computes the dummy hash ahead of the first login attempt."""
        await asyncio.to_thread(self._dummy_hash)
