"""What the staff exports read from a stored request: decrypted or masked rows, the confirmed
declaration, and a verification code that ties a printed declaration to the record it came from.

The code is an HMAC, under a key derived from the PII master key, of the fields the declaration
attests. Staff recompute it from the database and compare it with the code printed on paper: a
printout whose record was changed afterwards, or a forged one, does not match.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from storage.models import WithdrawalRequest
from storage.pii import PiiCipher

__all__ = [
    "CODE_ALPHABET",
    "DeclarationDoc",
    "ExportRow",
    "verification_code",
    "verify",
]

_CODE_PURPOSE = b"jianding-bot declaration-code v1"
# Versioned separately from the key: a change of the covered fields must not reuse old codes' meaning.
_RECORD_LABEL = b"withdrawal-declaration v1"
# No 0/O or 1/I: a code read off paper and typed back cannot be mistaken. 32 symbols = 5 bits each.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_CODE_LENGTH = 12
_GROUP = 4


def _canonical(cipher: PiiCipher, request: WithdrawalRequest) -> bytes:
    """The covered fields, each length-prefixed, so no two different records encode alike."""
    confirmed = request.confirmed_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    fields = (
        _RECORD_LABEL,
        request.reference.encode(),
        request.name.encode(),
        cipher.decrypt(request.id_number_cipher, context="id_number").encode(),
        request.occupation.encode(),
        request.level.encode(),
        request.exam_date.isoformat().encode(),
        confirmed.encode(),
        cipher.decrypt(request.declaration_cipher, context="declaration").encode(),
    )
    return b"".join(b"%d:%s;" % (len(f), f) for f in fields)


def _raw_code(cipher: PiiCipher, request: WithdrawalRequest) -> str:
    digest = hmac.new(cipher.derive_key(_CODE_PURPOSE), _canonical(cipher, request), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * _CODE_LENGTH)
    return "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(_CODE_LENGTH)))


def verification_code(cipher: PiiCipher, request: WithdrawalRequest) -> str:
    """XXXX-XXXX-XXXX (60 bits): the same for the same record, different once a covered field changes.

    Covered: reference, name, ID number, occupation, level, exam date, confirmation time and the full
    declaration text. Status, refund date and the like are not: they change by design after printing.
    A request erased (`storage.retention`) or re-encrypted under a new key (`storage.key_rotation`)
    answers with the code it had, kept then: the code is the printed declaration's, whatever key now."""
    if request.kept_code:
        return request.kept_code
    raw = _raw_code(cipher.for_token(request.id_number_cipher, context="id_number"), request)
    return "-".join(raw[i : i + _GROUP] for i in range(0, _CODE_LENGTH, _GROUP))


def verify(cipher: PiiCipher, request: WithdrawalRequest, code: str) -> bool:
    """True when `code` (as typed: any case, with or without dashes and spaces) is the record's code."""
    typed = "".join(code.split()).replace("-", "").upper()
    # compare_digest needs ASCII str; anything else cannot be a code anyway.
    if not typed.isascii():
        return False
    return hmac.compare_digest(typed, verification_code(cipher, request).replace("-", ""))


def _confirmed_at(request: WithdrawalRequest) -> dt.datetime:
    return request.confirmed_at.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One request as a line of the XLSX export. `id_number` and `phone` are full when `reveal`,
    masked otherwise; the caller decides (and audits) who may reveal."""

    reference: str
    name: str
    id_number: str
    occupation: str
    level: str
    exam_date: dt.date
    institution: str
    receipt_no: str | None
    phone: str
    submitted_at: dt.datetime
    """Aware (UTC): when the candidate confirmed the declaration."""
    status: str
    """submitted, approved, rejected or refunded."""
    refunded_on: dt.date | None
    region: str
    doc_no: str
    reveal: bool

    @classmethod
    def from_request(cls, request: WithdrawalRequest, cipher: PiiCipher, *, reveal: bool) -> ExportRow:
        """Decrypts only when `reveal`: a masked export never touches the ciphertexts. An erased
        request has nothing to reveal: its masked values stand."""
        if reveal and not request.erased:
            id_number = cipher.decrypt(request.id_number_cipher, context="id_number")
            phone = cipher.decrypt(request.phone_cipher, context="phone")
        else:
            id_number, phone = request.id_number_masked, request.phone_masked
        return cls(
            reference=request.reference,
            name=request.name,
            id_number=id_number,
            occupation=request.occupation,
            level=request.level,
            exam_date=request.exam_date,
            institution=request.institution,
            receipt_no=request.receipt_no,
            phone=phone,
            submitted_at=_confirmed_at(request),
            status=request.status,
            refunded_on=request.refunded_on,
            region=request.region,
            doc_no=request.doc_no,
            reveal=reveal,
        )


@dataclass(frozen=True, slots=True)
class DeclarationDoc:
    """A confirmed 个人弃考声明 ready to print: the text exactly as confirmed (with the full ID number
    when `reveal`, the stored masked version otherwise) and the record's verification code."""

    reference: str
    name: str
    text: str
    occupation: str
    level: str
    exam_date: dt.date
    institution: str
    region: str
    doc_no: str
    confirmed_at: dt.datetime
    """Aware (UTC)."""
    verification_code: str
    status: str
    """submitted, approved, rejected or refunded: printed on the page, so a batch is read right."""
    reveal: bool

    @classmethod
    def from_request(cls, request: WithdrawalRequest, cipher: PiiCipher, *, reveal: bool) -> DeclarationDoc:
        """The code is computed from the full record whatever `reveal` says, so both prints carry the same one."""
        text = (
            cipher.decrypt(request.declaration_cipher, context="declaration")
            if reveal and not request.erased
            else request.declaration_masked
        )
        return cls(
            reference=request.reference,
            name=request.name,
            text=text,
            occupation=request.occupation,
            level=request.level,
            exam_date=request.exam_date,
            institution=request.institution,
            region=request.region,
            doc_no=request.doc_no,
            confirmed_at=_confirmed_at(request),
            verification_code=verification_code(cipher, request),
            status=request.status,
            reveal=reveal,
        )
