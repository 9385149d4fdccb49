"""Retention events (issue 13, item 3): legal holds, and the destruction of a case's personal data.

`LegalHoldPlaced` and `LegalHoldLifted` are appended by an admin or auditor key (an
audit or a lawsuit suspends the retention schedule); `CaseRecordsDestroyed` only by
`caseledger retention run`, never by an HTTP client (`app.service.validate.role_refusal`).
None of them moves the closure clock or the ledger: a destroyed case keeps its dates,
amounts, ids and statuses (docs/privacy.md).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.events.types import CalendarDate, EventData, Identifier, Text

# Years after closure: from the policy table's `retention_years` (1-100, docs/policy.md).
RetentionYears = Annotated[int, Field(strict=True, ge=1, le=100)]


class LegalHoldPlaced(EventData):
    """From `placed_on` the case is not destroyed, however long ago it closed, until lifted."""

    TYPE = "LegalHoldPlaced"
    placed_on: CalendarDate
    reason: Text


class LegalHoldLifted(EventData):
    """Ends every hold in force on `lifted_on`; refused when none is (`legal_hold_not_in_force`)."""

    TYPE = "LegalHoldLifted"
    lifted_on: CalendarDate
    reason: Text


class CaseRecordsDestroyed(EventData):
    """The case's data key was destroyed on `destroyed_on` under `rule`, `period_years` after
    closure: every personal value of the case reads "[destroyed]" from then on."""

    TYPE = "CaseRecordsDestroyed"
    destroyed_on: CalendarDate
    rule: Identifier
    period_years: RetentionYears
