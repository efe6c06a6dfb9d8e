"""Encryption at rest of personal data and the management of its master key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import pii
from storage.pii import PiiCipher, PiiDecryptError, PiiKeyError, load_or_create_key

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))
# Bytes whose base64 uses the two characters where the standard and URL-safe alphabets differ.
KEY_ODD_ALPHABET = bytes([0xFB, 0xFF, 0xBF] * 10 + [0xFE, 0xFF])
ID_NUMBER = "11010519491231002X"
DECLARATION = "本人张三，因工作调动无法参加2024年第三批职业技能等级认定，申请退考退费。"

POSIX_ONLY = pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")

CIPHER = PiiCipher(KEY_A)


def _body(token: str) -> bytes:
    body = token.removeprefix("v1:")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _token(blob: bytes) -> str:
    return "v1:" + base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")


# --- PiiCipher -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", ID_NUMBER, "13800138000", DECLARATION, "emoji 🙂 and\nnewlines\t"])
def test_round_trip(text: str) -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(text)) == text
    assert CIPHER.decrypt(CIPHER.encrypt(text, context="declaration"), context="declaration") == text


def test_token_is_ascii_with_version_prefix() -> None:
    token = CIPHER.encrypt(DECLARATION, context="declaration")
    assert token.isascii()
    assert token.startswith("v1:")
    assert set(token[3:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert DECLARATION not in token


def test_each_encryption_uses_a_fresh_nonce() -> None:
    tokens = {CIPHER.encrypt(ID_NUMBER) for _ in range(20)}
    assert len(tokens) == 20
    assert len({_body(t)[:12] for t in tokens}) == 20


def test_a_fresh_cipher_with_the_same_key_decrypts() -> None:
    assert PiiCipher(KEY_A).decrypt(CIPHER.encrypt(ID_NUMBER)) == ID_NUMBER


def test_tampering_with_any_byte_is_detected() -> None:
    blob = _body(CIPHER.encrypt("13800138000", context="phone"))
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            altered = bytearray(blob)
            altered[i] ^= bit
            with pytest.raises(PiiDecryptError):
                CIPHER.decrypt(_token(bytes(altered)), context="phone")


def test_changing_any_character_of_the_token_is_detected() -> None:
    token = CIPHER.encrypt("13800138000", context="phone")
    for i in range(len(token)):
        for replacement in "AQz-_":
            if token[i] == replacement:
                continue
            with pytest.raises(PiiDecryptError):
                CIPHER.decrypt(token[:i] + replacement + token[i + 1 :], context="phone")


def test_truncated_or_extended_token_is_detected() -> None:
    token = CIPHER.encrypt(ID_NUMBER)
    blob = _body(token)
    for bad in (_token(blob[:-1]), _token(blob + b"\x00"), token[:-1], token + "A"):
        with pytest.raises(PiiDecryptError):
            CIPHER.decrypt(bad)


def test_wrong_key_is_detected() -> None:
    with pytest.raises(PiiDecryptError):
        PiiCipher(KEY_B).decrypt(CIPHER.encrypt(ID_NUMBER))


@pytest.mark.parametrize(("written", "read"), [("id_number", "phone"), ("phone", ""), ("", "phone")])
def test_wrong_context_is_detected(written: str, read: str) -> None:
    with pytest.raises(PiiDecryptError):
        CIPHER.decrypt(CIPHER.encrypt(ID_NUMBER, context=written), context=read)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1:",
        "v1",
        "v2:" + CIPHER.encrypt(ID_NUMBER)[3:],
        CIPHER.encrypt(ID_NUMBER)[3:],
        "v1:!!!!",
        "v1:中文",
        "v1:" + "A" * 37,  # length 1 mod 4 cannot be base64
        "v1:" + "A" * 36,  # decodes, but shorter than nonce and tag
        CIPHER.encrypt(ID_NUMBER) + "=",
        CIPHER.encrypt(ID_NUMBER) + "\n",
        " " + CIPHER.encrypt(ID_NUMBER),
        "v1:" + "+/" * 20,  # standard alphabet: never written, so never accepted
        ID_NUMBER,
    ],
    # Ciphertexts differ on every run: ids without them, the same in every xdist worker.
    ids=lambda token: re.sub(r"[\w-]{40,}", "<ciphertext>", token),
)
def test_malformed_token_is_rejected(token: str) -> None:
    with pytest.raises(PiiDecryptError):
        CIPHER.decrypt(token)


def test_non_string_token_is_rejected() -> None:
    with pytest.raises(PiiDecryptError):
        CIPHER.decrypt(b"v1:AAAA")  # type: ignore[arg-type]


def test_errors_do_not_reveal_plaintext_or_token() -> None:
    token = CIPHER.encrypt(ID_NUMBER, context="id_number")
    failures = [
        lambda: PiiCipher(KEY_B).decrypt(token, context="id_number"),
        lambda: CIPHER.decrypt(token, context="phone"),
        lambda: CIPHER.decrypt(token[:-2], context="id_number"),
        lambda: CIPHER.decrypt(token[3:], context="id_number"),
    ]
    for fail in failures:
        with pytest.raises(PiiDecryptError) as caught:
            fail()
        shown = str(caught.value) + repr(caught.value)
        assert ID_NUMBER not in shown
        assert token[3:13] not in shown
        # Suppressed chaining keeps cryptography's or base64's own errors out of logged tracebacks.
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_cipher_rejects_a_key_of_the_wrong_size() -> None:
    for bad in (b"", KEY_A[:16], KEY_A + b"\x00"):
        with pytest.raises(PiiKeyError):
            PiiCipher(bad)


def test_repr_shows_only_the_fingerprint() -> None:
    shown = repr(CIPHER)
    assert CIPHER.fingerprint in shown
    assert KEY_A.hex() not in shown


def test_keyed_hash_is_stable_and_normalised() -> None:
    digest = CIPHER.keyed_hash(ID_NUMBER)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert PiiCipher(KEY_A).keyed_hash(ID_NUMBER) == digest
    assert CIPHER.keyed_hash(ID_NUMBER.lower()) == digest
    assert CIPHER.keyed_hash(f"  {ID_NUMBER.lower()}\n") == digest
    assert CIPHER.keyed_hash("110105194912310029") != digest


def test_keyed_hash_depends_on_the_key() -> None:
    assert PiiCipher(KEY_B).keyed_hash(ID_NUMBER) != CIPHER.keyed_hash(ID_NUMBER)


@pytest.mark.parametrize("value", [ID_NUMBER, ID_NUMBER.lower(), "13800138000", ""])
def test_keyed_hash_is_not_a_plain_or_master_keyed_digest(value: str) -> None:
    digest = CIPHER.keyed_hash(value)
    for candidate in {value, value.strip().upper()}:
        data = candidate.encode("utf-8")
        assert digest != hashlib.sha256(data).hexdigest()
        # The HMAC key is derived, so the raw master key alone does not reproduce the hashes.
        assert digest != hmac.new(KEY_A, data, hashlib.sha256).hexdigest()


def test_fingerprint_is_stable_short_and_key_specific() -> None:
    fingerprint = CIPHER.fingerprint
    assert len(fingerprint) == 16
    assert int(fingerprint, 16) >= 0
    assert PiiCipher(KEY_A).fingerprint == fingerprint
    assert PiiCipher(KEY_B).fingerprint != fingerprint
    assert fingerprint not in KEY_A.hex()
    assert not CIPHER.keyed_hash("").startswith(fingerprint)


@given(text=st.text(), context=st.text(max_size=20))
def test_any_text_round_trips(text: str, context: str) -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(text, context=context), context=context) == text


# --- load_or_create_key --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "configured",
    [
        base64.b64encode(KEY_ODD_ALPHABET).decode(),
        base64.b64encode(KEY_ODD_ALPHABET).decode().rstrip("="),
        base64.urlsafe_b64encode(KEY_ODD_ALPHABET).decode(),
        base64.urlsafe_b64encode(KEY_ODD_ALPHABET).decode().rstrip("="),
        KEY_ODD_ALPHABET.hex(),
        KEY_ODD_ALPHABET.hex().upper(),
        f"  {KEY_ODD_ALPHABET.hex()}\n",
    ],
)
def test_configured_key_is_decoded(tmp_path: Path, configured: str) -> None:
    path = tmp_path / "pii.key"
    assert load_or_create_key(path, configured=configured, encrypted_rows_exist=True) == KEY_ODD_ALPHABET
    assert not path.exists()


def test_configured_key_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pii.key"
    load_or_create_key(path, configured=None, encrypted_rows_exist=False)
    assert load_or_create_key(path, configured=KEY_B.hex(), encrypted_rows_exist=True) == KEY_B


@pytest.mark.parametrize(
    "configured",
    [
        "",
        "   ",
        "not-a-key-but-a-secret-passphrase",
        base64.b64encode(KEY_A[:16]).decode(),
        base64.b64encode(KEY_A + KEY_B).decode(),
        KEY_A.hex()[:-1],
        KEY_A.hex() + "0",
        "g" * 64,
        base64.b64encode(KEY_ODD_ALPHABET).decode().replace("/", "_"),  # mixed alphabets
        base64.b64encode(KEY_A).decode() + "==",
    ],
)
def test_malformed_configured_key_is_refused_without_echo(tmp_path: Path, configured: str) -> None:
    with pytest.raises(PiiKeyError) as caught:
        load_or_create_key(tmp_path / "pii.key", configured=configured, encrypted_rows_exist=False)
    message = str(caught.value)
    assert "PII_KEY" in message
    assert "base64" in message and "hex" in message
    if configured.strip():
        assert configured.strip() not in message
    assert not (tmp_path / "pii.key").exists()


@POSIX_ONLY
def test_creates_a_private_key_file_and_reuses_it(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys" / "pii.key"
    key = load_or_create_key(path, configured=None, encrypted_rows_exist=False)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    assert base64.urlsafe_b64decode(content.strip()) == key
    # No temporary file is left holding a copy of the key.
    assert sorted(p.name for p in path.parent.iterdir()) == ["pii.key"]

    assert load_or_create_key(path, configured=None, encrypted_rows_exist=True) == key
    assert load_or_create_key(path, configured=None, encrypted_rows_exist=False) == key
    assert path.read_text() == content


def test_new_keys_are_random(tmp_path: Path) -> None:
    first = load_or_create_key(tmp_path / "a.key", configured=None, encrypted_rows_exist=False)
    second = load_or_create_key(tmp_path / "b.key", configured=None, encrypted_rows_exist=False)
    assert first != second


@POSIX_ONLY
def test_key_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = tmp_path / "pii.key"
        load_or_create_key(path, configured=None, encrypted_rows_exist=False)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@POSIX_ONLY
def test_key_file_is_private_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*_args: object, **_kwargs: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(pii.os, "link", no_links)
    path = tmp_path / "pii.key"
    key = load_or_create_key(path, configured=None, encrypted_rows_exist=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pii.key"]
    assert load_or_create_key(path, configured=None, encrypted_rows_exist=True) == key


def test_existing_key_file_in_any_format_is_read(tmp_path: Path) -> None:
    for name, content in [
        ("hex.key", KEY_B.hex().upper() + "\n"),
        ("std.key", base64.b64encode(KEY_ODD_ALPHABET).decode()),
        ("url.key", "\n" + base64.urlsafe_b64encode(KEY_ODD_ALPHABET).decode() + "\n\n"),
    ]:
        path = tmp_path / name
        path.write_text(content)
        path.chmod(0o600)
        expected = KEY_B if name == "hex.key" else KEY_ODD_ALPHABET
        assert load_or_create_key(path, configured=None, encrypted_rows_exist=True) == expected


def test_missing_key_file_with_encrypted_rows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pii.key"
    with pytest.raises(PiiKeyError) as caught:
        load_or_create_key(path, configured=None, encrypted_rows_exist=True)
    message = str(caught.value)
    assert str(path) in message
    assert "PII_KEY" in message
    assert "restore" in message.lower()
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


@POSIX_ONLY
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700 | 0o004])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "pii.key"
    secret = KEY_A.hex()
    path.write_text(secret)
    path.chmod(mode)
    with pytest.raises(PiiKeyError) as caught:
        load_or_create_key(path, configured=None, encrypted_rows_exist=True)
    message = str(caught.value)
    assert f"chmod 600 {path}" in message
    assert secret not in message


@POSIX_ONLY
def test_owner_only_modes_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "pii.key"
    path.write_text(KEY_A.hex())
    path.chmod(0o400)
    assert load_or_create_key(path, configured=None, encrypted_rows_exist=True) == KEY_A


@pytest.mark.parametrize("content", ["", "\n", "garbage", KEY_A.hex()[:40], base64.b64encode(KEY_A[:31]).decode()])
def test_malformed_key_file_is_refused_without_echo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    # An empty file is waited on briefly in case another process is still writing it; keep that wait short here.
    monkeypatch.setattr(pii, "_CONCURRENT_WRITE_GRACE", 0.05)
    path = tmp_path / "pii.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(PiiKeyError) as caught:
        load_or_create_key(path, configured=None, encrypted_rows_exist=False)
    message = str(caught.value)
    assert str(path) in message
    if content.strip():
        # tmp_path's name repeats the test's parameters, so look for the content outside the path.
        assert content.strip() not in message.replace(str(path), "")
    assert path.read_text() == content  # a broken key file is reported, never replaced


def test_key_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PiiKeyError):
        load_or_create_key(tmp_path, configured=None, encrypted_rows_exist=False)


@pytest.mark.parametrize("without_links", [False, True])
def test_concurrent_creation_agrees_on_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, without_links: bool
) -> None:
    if without_links:

        def no_links(*_args: object, **_kwargs: object) -> None:
            raise PermissionError("hard links not supported")

        monkeypatch.setattr(pii.os, "link", no_links)
    path = tmp_path / "keys" / "pii.key"
    workers = 12
    barrier = threading.Barrier(workers)
    results: list[bytes] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()
        try:
            key = load_or_create_key(path, configured=None, encrypted_rows_exist=False)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(key)

    threads = [threading.Thread(target=start) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors, errors
    assert len(results) == workers
    assert len(set(results)) == 1
    assert base64.urlsafe_b64decode(path.read_text().strip()) == results[0]
    assert sorted(p.name for p in path.parent.iterdir()) == ["pii.key"]
