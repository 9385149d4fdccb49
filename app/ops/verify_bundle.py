"""`caseledger verify-bundle FILE --public-key FILE.pub`: a case checked with no database, no network.

`app.domain.bundle.verify_bundle` checks the signature, every hash and every inclusion
proof; then the case is replayed with the same rules the service uses and the policy
history the bundle carries (every adoption, by number: `app.domain.bundle_policy`), and the
closure clock (on `as_of`) and the ledger come out as the service answers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from app.domain.bundle import Finding, bundle_case_state, verify_bundle
from app.domain.case import clock_view
from app.domain.checkpoint import CheckpointError
from app.domain.clock_view import ClockView
from app.projections.ledger import ledger_rows
from app.service.checkpoint_keys import load_verifier_key_file


@dataclass(slots=True)
class BundleCheck:
    findings: list[Finding]
    closure_clock: dict[str, Any] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def check_bundle(bundle: bytes, public_key: Path, as_of: date) -> BundleCheck:
    try:
        verifier = load_verifier_key_file(public_key)
    except CheckpointError as error:
        return BundleCheck([Finding(error.code, str(public_key), error.detail)])
    findings = verify_bundle(bundle, verifier)
    if findings:
        return BundleCheck(findings)
    try:
        state, policy = bundle_case_state(bundle)
    except ValueError as error:  # e.g. an event type newer than this copy of caseledger
        return BundleCheck([Finding("not_replayable", "events", f"this caseledger cannot fold it: {error}")])
    clock = _clock_answer(clock_view(state, as_of, policy), as_of)
    return BundleCheck([], clock, ledger_rows(state, policy))


def _clock_answer(view: ClockView, as_of: date) -> dict[str, Any]:
    """The clock as `GET /cases/{id}/closure-clock` answers it (without case_id and version)."""
    return {
        "as_of": as_of.isoformat(),
        "status": view.status,
        "clock_start": _iso(view.clock_start),
        "clock_start_rule": view.clock_start_rule,
        "clock_start_event_id": _text(view.clock_start_event_id),
        "eligible_on": _iso(view.eligible_on),
        "days_remaining": view.days_remaining,
        "blocking": list(view.blocking),
        "explanation": list(view.explanation),
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)
