"""Whatever a module logs, ID and phone numbers come out masked."""

from __future__ import annotations

import io
import logging

from bot.logs import MaskingFilter
from tests.dialogs import make_id_number


def test_messages_arguments_and_tracebacks_are_masked() -> None:
    id_number = make_id_number(seq=321)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    log = logging.getLogger("test.masking")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("candidate %s phone %s", id_number, "13812345678")
        try:
            raise ValueError(f"bad value {id_number}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert id_number not in out and "13812345678" not in out
    assert id_number[:4] + "**********" + id_number[-4:] in out and "138****5678" in out
    assert "ValueError" in out
