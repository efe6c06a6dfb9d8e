"""Logging set-up: personal numbers are masked in every record, whoever logged it."""

from __future__ import annotations

import logging

from storage.masking import mask_text


class MaskingFilter(logging.Filter):
    """Masks ID and phone numbers in the rendered message and in any exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Migrations announce themselves on every start; only their problems are worth a line.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
