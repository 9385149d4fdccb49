"""What a use case answers when it says no: a stable contract `code`, a sentence, fields.

The service knows nothing of HTTP; `app.web.problems` maps each code to its
status and RFC 9457 body. The codes are the contract's (section 5).
"""

from __future__ import annotations

from typing import Any

# Every code a use case may raise; `app.web.problems.STATUS_OF` gives each its status.
SERVICE_ERROR_CODES = (
    "invalid_event",
    "invalid_request",
    "version_conflict",
    "rule_violation",
    "idempotency_conflict",
    "case_not_found",
    "not_found",
    "forbidden",
)


class ServiceError(Exception):
    """A refusal a client can act on; nothing was changed."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        if code not in SERVICE_ERROR_CODES:
            raise ValueError(f"unknown service error code {code!r}")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


def validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's errors without echoing the input back (it may hold case data)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors
    ]
