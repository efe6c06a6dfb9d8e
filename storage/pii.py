"""Encryption at rest of personal data: ID numbers, phone numbers and declaration texts.

One 32-byte master key feeds HKDF-SHA256, which derives an AES-256-GCM key for the values themselves, an
HMAC-SHA256 key for look-ups without decrypting, and a public fingerprint that records which key wrote the rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
import time
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.private_files import private_dir

__all__ = [
    "KEY_ENV_VAR",
    "KEY_FINGERPRINT",
    "KEY_SIZE",
    "PiiCipher",
    "PiiDecryptError",
    "PiiKeyError",
    "existing_key",
    "load_or_create_key",
    "load_previous_keys",
    "start_rotation",
]

KEY_ENV_VAR = "PII_KEY"
KEY_FINGERPRINT = "pii_key_fingerprint"
"""The `settings` row naming the fingerprint of the key that encrypted the stored personal data."""
KEY_SIZE = 32

_AEAD_INFO = b"jianding-bot aes-gcm v1"
_HMAC_INFO = b"jianding-bot id-hmac v1"
_FINGERPRINT_INFO = b"jianding-bot key-fingerprint v1"
_PURPOSE_ROOT_INFO = b"jianding-bot purpose-root v1"

_TOKEN_PREFIX = "v1:"
_NONCE_SIZE = 12
_TAG_SIZE = 16
# Only the URL-safe alphabet without padding is ever written, so anything else cannot be one of our tokens.
_TOKEN_BODY = re.compile(r"[A-Za-z0-9_-]*")

_KEY_FORMAT = (
    f"expected {KEY_SIZE} random bytes written as base64 (standard or URL-safe alphabet, 44 characters with "
    f"padding) or as {KEY_SIZE * 2} hexadecimal characters; generate one with: "
    'python -c "import secrets; print(secrets.token_hex(32))"'
)
_HEX_KEY = re.compile(rf"[0-9A-Fa-f]{{{KEY_SIZE * 2}}}")
_B64_KEY = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
# A starter may find the key file created but still empty (only possible on the fallback path for filesystems
# without hard links, while another process writes it); this bounds how long it waits for the bytes.
_CONCURRENT_WRITE_GRACE = 2.0


class PiiKeyError(Exception):
    """The PII master key is missing, malformed or stored unsafely; the bot must not start."""


class PiiDecryptError(Exception):
    """A stored value could not be decrypted: wrong key, wrong context, tampering or a malformed token."""


def _derive(master_key: bytes, info: bytes) -> bytes:
    # The master key is already uniformly random, so HKDF needs no salt; distinct labels keep the outputs independent.
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=info).derive(master_key)


def _b64encode_unpadded(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class PiiCipher:
    """Encrypts and hashes personal data under sub-keys derived from one master key.

    During a key rotation it also holds the previous keys (`previous`): it encrypts and hashes with
    the new one, and decrypts with whichever key a value was encrypted with, so that the server keeps
    reading every row while `storage.key_rotation` re-encrypts them."""

    def __init__(self, master_key: bytes, previous: Sequence[bytes] = ()) -> None:
        if not isinstance(master_key, bytes | bytearray) or len(master_key) != KEY_SIZE:
            raise PiiKeyError(f"the PII master key must be exactly {KEY_SIZE} bytes")
        self.previous = tuple(PiiCipher(key) for key in previous)
        master = bytes(master_key)
        self._aead = AESGCM(_derive(master, _AEAD_INFO))
        self._hmac_key = _derive(master, _HMAC_INFO)
        self._fingerprint = hashlib.sha256(_derive(master, _FINGERPRINT_INFO)).hexdigest()[:16]
        # Keys for other features come from this intermediate key, so the master key is not kept in memory.
        self._purpose_root = _derive(master, _PURPOSE_ROOT_INFO)
        self._purpose_keys: dict[bytes, bytes] = {}

    def __repr__(self) -> str:
        return f"PiiCipher(fingerprint={self._fingerprint!r})"

    @property
    def fingerprint(self) -> str:
        """16 hex characters naming the key; safe to store beside the rows it encrypted."""
        return self._fingerprint

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """Encrypts `plaintext` into an ASCII token bound to `context` (e.g. the column name)."""
        # Random 96-bit nonces stay collision-safe far beyond the number of candidates this bot will ever store.
        nonce = secrets.token_bytes(_NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _TOKEN_PREFIX + _b64encode_unpadded(nonce + sealed)

    def decrypt(self, token: str, *, context: str = "") -> str:
        """Returns the plaintext of a token from `encrypt` with the same `context`, or raises PiiDecryptError."""
        try:
            return self._decrypt(token, context=context)
        except PiiDecryptError:
            for cipher in self.previous:
                try:
                    return cipher._decrypt(token, context=context)
                except PiiDecryptError:
                    continue
            raise

    def for_token(self, token: str, *, context: str = "") -> PiiCipher:
        """The cipher (this one, or a previous key's) that encrypted `token`; this one if none did."""
        for cipher in (self, *self.previous):
            try:
                cipher._decrypt(token, context=context)
            except PiiDecryptError:
                continue
            return cipher
        return self

    def is_current(self, token: str, *, context: str = "") -> bool:
        """True when `token` is under this (the newest) key."""
        try:
            self._decrypt(token, context=context)
        except PiiDecryptError:
            return False
        return True

    def keyed_hashes(self, value: str) -> list[str]:
        """The value's keyed hash under every loaded key: a look-up during a rotation matches rows of both."""
        return [c.keyed_hash(value) for c in (self, *self.previous)]

    def _decrypt(self, token: str, *, context: str = "") -> str:
        what = f"personal data ({context})" if context else "personal data"
        blob = self._unpack(token, what)
        try:
            plaintext = self._aead.decrypt(blob[:_NONCE_SIZE], blob[_NONCE_SIZE:], context.encode("utf-8"))
            return plaintext.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            # `from None`: nothing in the chain may carry the token or a partial plaintext into logs.
            raise PiiDecryptError(
                f"cannot decrypt {what}: wrong key, wrong context, or the stored value was altered"
            ) from None

    def keyed_hash(self, value: str) -> str:
        """Hex HMAC-SHA256 of the normalised value, for equality look-ups and duplicate checks."""
        # Upper-casing makes a lower-case 'x' check digit of an ID number match the canonical 'X'.
        normalised = value.strip().upper().encode("utf-8")
        return hmac.new(self._hmac_key, normalised, hashlib.sha256).hexdigest()

    def derive_key(self, purpose: bytes) -> bytes:
        """A 32-byte key for `purpose` (e.g. b"declaration-code v1"), independent of every other key.

        Changes with the master key: whatever it authenticates must be recomputed after a key change."""
        if not purpose:
            raise ValueError("a key purpose is required")
        key = self._purpose_keys.get(purpose)
        if key is None:  # HKDF per call would be paid on every web chat request
            key = self._purpose_keys[purpose] = _derive(self._purpose_root, purpose)
        return key

    @staticmethod
    def _unpack(token: object, what: str) -> bytes:
        malformed = PiiDecryptError(f"cannot decrypt {what}: the stored value is not a valid v1 token")
        if not isinstance(token, str) or not token.startswith(_TOKEN_PREFIX):
            raise malformed
        body = token[len(_TOKEN_PREFIX) :]
        if not _TOKEN_BODY.fullmatch(body):
            raise malformed
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise malformed from None
        # Several encodings can differ only in unused trailing bits; accepting just the canonical one means any
        # changed character of a token is rejected, not silently decoded to the same bytes.
        if _b64encode_unpadded(blob) != body or len(blob) < _NONCE_SIZE + _TAG_SIZE:
            raise malformed
        return blob


def _decode_key(text: str) -> bytes | None:
    """The 32 key bytes encoded in `text`, or None when it is not a valid key."""
    text = text.strip()
    if _HEX_KEY.fullmatch(text):
        return bytes.fromhex(text)
    if not _B64_KEY.fullmatch(text):
        return None
    unpadded = text.rstrip("=")
    try:
        key = base64.b64decode(unpadded.translate(str.maketrans("-_", "+/")) + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_SIZE else None


def _read_key_file(path: Path) -> bytes:
    """Reads the key at `path`, refusing unsafe permissions; FileNotFoundError passes through."""
    deadline = time.monotonic() + _CONCURRENT_WRITE_GRACE
    while True:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise PiiKeyError(f"cannot read the PII key file {path}: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise PiiKeyError(f"the PII key file {path} is not a regular file")
        # Windows has no POSIX mode bits to check; everywhere else a key others can read is a leaked key.
        if os.name != "nt" and st.st_mode & 0o077:
            raise PiiKeyError(
                f"the PII key file {path} is accessible to group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
                f"restrict it with: chmod 600 {path}"
            )
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise PiiKeyError(f"cannot read the PII key file {path}: {exc.strerror}") from None
        key = _decode_key(raw.decode("ascii", errors="replace"))
        if key is not None:
            return key
        if raw or time.monotonic() >= deadline:
            raise PiiKeyError(f"the PII key file {path} does not hold a valid key: {_KEY_FORMAT}")
        time.sleep(0.01)


def _write_new_file(path: Path, data: bytes) -> None:
    """Creates `path` (failing if it exists) with mode 0600 from the first instant, and writes `data` durably."""
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            # The umask can only have narrowed 0600; restore the owner's bits so the mode is exactly 0600.
            os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        # O_EXCL made this file ours, so removing a half-written one cannot destroy anybody else's key.
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Losing the key file in a crash would strand every row written after start-up; not possible on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _publish_key_file(path: Path, key: bytes) -> bool:
    """Stores `key` at `path` unless a file already exists there; True if this call created it."""
    data = (base64.urlsafe_b64encode(key).decode("ascii") + "\n").encode("ascii")
    # Writing a private temporary file and hard-linking it into place publishes the complete key in one step
    # and never replaces an existing file, so concurrent starters cannot see a partial key or overwrite one.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    _write_new_file(tmp, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError:
        # Some filesystems (FAT, certain network mounts) have no hard links: create the key file in place instead.
        try:
            _write_new_file(path, data)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def load_or_create_key(path: Path, *, configured: str | None, encrypted_rows_exist: bool) -> bytes:
    """Returns the PII master key: the configured one, else the key file, else a newly created key file.

    Raises PiiKeyError when the configured key or the key file is malformed, when the file's permissions are
    wider than 0600, and when no key exists although the database already holds encrypted personal data.
    An empty `configured` string counts as given (and malformed), so a blank PII_KEY never passes silently.
    """
    existing = existing_key(path, configured=configured)
    if existing is not None:
        return existing

    if encrypted_rows_exist:
        # A fresh key could not read the existing rows and would split the database between two keys.
        raise PiiKeyError(
            f"the PII key file {path} is missing, but the database already holds encrypted personal data; "
            f"refusing to start with a new key that could not read it. Restore the key file from backup "
            f"(mode 0600) or set the key through the {KEY_ENV_VAR} environment variable."
        )

    private_dir(path.parent)
    key = secrets.token_bytes(KEY_SIZE)
    if _publish_key_file(path, key):
        return key
    # Another process created the key between our look and our write; everyone must share its key.
    return _read_key_file(path)


def load_previous_keys(path: Path, *, configured: str | None) -> list[bytes]:
    """The keys a rotation reads old rows with: `configured` (PII_PREVIOUS_KEYS, comma-separated)
    and the lines of the file at `path` (pii.key.previous), which must be 0600 like the key file."""
    texts = [t for t in (configured or "").split(",") if t.strip()]
    if path.exists():
        _read_key_file_lines(path, texts)
    keys = []
    for text in texts:
        key = _decode_key(text)
        if key is None:
            raise PiiKeyError(f"a previous PII key (PII_PREVIOUS_KEYS or {path.name}) is not valid: {_KEY_FORMAT}")
        keys.append(key)
    return keys


def _read_key_file_lines(path: Path, into: list[str]) -> None:
    st = os.stat(path)
    if os.name != "nt" and st.st_mode & 0o077:
        raise PiiKeyError(f"the file {path} is accessible to group or others; restrict it with: chmod 600 {path}")
    into.extend(line for line in path.read_text(encoding="ascii").splitlines() if line.strip())


def start_rotation(path: Path) -> bytes:
    """Makes a new key the key file's, keeping the current one in `<path>.previous`: servers started
    afterwards read both and write under the new one. The new key is written before the old one is
    moved, so a crash leaves either the old set-up or both keys, never neither."""
    current = _read_key_file(path)
    previous = path.with_name(path.name + ".previous")
    old_lines = previous.read_text(encoding="ascii") if previous.exists() else ""
    new = secrets.token_bytes(KEY_SIZE)
    staged = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    _write_new_file(staged, (base64.urlsafe_b64encode(new).decode("ascii") + "\n").encode("ascii"))
    kept = path.with_name(f".{previous.name}.{secrets.token_hex(8)}.tmp")
    _write_new_file(kept, (old_lines + base64.urlsafe_b64encode(current).decode("ascii") + "\n").encode("ascii"))
    os.replace(kept, previous)
    os.replace(staged, path)
    _fsync_dir(path.parent)
    return new


def existing_key(path: Path, *, configured: str | None) -> bytes | None:
    """The PII master key as it is now, creating nothing: the configured one, else the key file's;
    None when neither exists yet (the first start creates the file). Raises PiiKeyError as
    `load_or_create_key` does for a malformed key or an unsafe file."""
    if configured is not None:
        key = _decode_key(configured)
        if key is None:
            raise PiiKeyError(f"the configured PII key ({KEY_ENV_VAR}) is not valid: {_KEY_FORMAT}")
        return key
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        return None
