"""Logging set-up: personal numbers are masked in every record, whoever logged it."""

from __future__ import annotations

import json
import logging
import re
import sys

from storage.masking import mask_text

SIGNED_QUERY = re.compile(r"(?<![A-Za-z_])(signature|msg_signature|nonce|timestamp|openid|echostr)=[^&\s\"']*")
"""WeChat's signed query parameters, as access logs print request paths: with them a reader of the
log could replay a request (within the freshness window) or tell which user sent it."""


def redact_query(text: str) -> str:
    return SIGNED_QUERY.sub(r"\1=…", text)


class MaskingFilter(logging.Filter):
    """Masks ID and phone numbers in the rendered message and in any exception text, and WeChat's
    signed query parameters (uvicorn's access log prints every request's path and query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_query(mask_text(record.getMessage()))
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str = "auto") -> None:
    """`log_format`: json, text, or auto (text on a terminal, JSON otherwise)."""
    handler = logging.StreamHandler()
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    handler.setFormatter(
        JsonFormatter() if use_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Migrations announce themselves on every start; only their problems are worth a line.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # httpx logs every request URL at INFO, and Bot API / WeChat URLs carry tokens.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
