"""The retention run's use case, one page of closed cases at a time (docs/privacy.md).

For each case of the page the pure rule (`app.domain.retention`) says: due, held, not
yet due, or already recorded as destroyed with its key still alive (a run that stopped
between its two steps). A due case is destroyed in two steps, in this order:

1. `CaseRecordsDestroyed` is appended through the one append path (`AppendHandler`), as
   the retention run's own principal. The decider judges it against the live case, with
   the same rule: a hold placed since the page was read comes first and the destruction
   is refused (`legal_hold_in_force`); a hold arriving after it is refused
   (`case_records_destroyed`). The event holds no personal value, so it needs no key.
2. The keys of the page's recorded cases are destroyed in one statement
   (`caseledger_destroy_data_keys`, which destroys only keys the log accounts for).

A crash between the two leaves the record ahead of the key: the next run finds the case
(closed, key alive, `CaseRecordsDestroyed` recorded) and destroys the key, appending
nothing. A second run over the same day changes nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from app.domain.policy import PolicyTable
from app.domain.retention import Due, due_for_destruction, facts_of, hold_in_force, latest_due_closure
from app.service.append import AppendHandler
from app.service.errors import ServiceError
from app.service.validate import Proposed, SystemPrincipal
from app.store import data_keys
from app.store import retention as store
from app.store.pool import Pool

RUN_PRINCIPAL = SystemPrincipal("retention-run", "admin")
_EVENT_IDS = uuid.UUID("6f0c8a4e-3f61-4bd4-9d55-5c4ad0c1f7a2")  # namespace of the runs' event ids


@dataclass(slots=True)
class PageOutcome:
    """What one page did (or, in a dry run, would do)."""

    destroyed: list[Due] = field(default_factory=list)  # recorded and key destroyed
    repaired: list[str] = field(default_factory=list)  # recorded by an earlier run; key destroyed now
    held: list[str] = field(default_factory=list)  # a legal hold in force
    refused: list[tuple[str, str]] = field(default_factory=list)  # (case, rule): the live case said no


class RetentionRun:
    """One run: the policy table as known at its start, and the run's date."""

    def __init__(self, pool: Pool, policy: PolicyTable, *, today: date, concurrency: int = 4) -> None:
        if today > datetime.now(UTC).date():
            raise ServiceError(
                "invalid_request",
                f"a retention run cannot judge {today}, a day after today: it would destroy early",
            )
        self.pool = pool
        self.today = today
        # The version in force on the day of the run, as known now (docs/privacy.md says why).
        self.period_years = policy.retention_years(today)
        self.handler = AppendHandler(pool, policy)  # no keys: the event holds no personal value
        self.correlation_id = str(uuid.uuid4())
        self._slots = asyncio.Semaphore(concurrency)

    async def page(self, after: str, limit: int, *, dry_run: bool) -> tuple[PageOutcome, str | None]:
        """The page after the case id `after`; the cursor of the next page (None: the last)."""
        async with self.pool.acquire() as conn:
            page = await store.candidates(
                conn,
                after=after,
                latest_closure=latest_due_closure(self.today, self.period_years),
                limit=limit,
            )
        outcome, due = PageOutcome(), []
        for candidate in page:
            facts = facts_of(candidate.events)
            owed = due_for_destruction(
                candidate.case_id,
                facts.closed_on,
                facts.state.holds,
                today=self.today,
                period_years=self.period_years,
            )
            if facts.state.destroyed_on is not None:
                outcome.repaired.append(candidate.case_id)
            elif hold_in_force(facts.state.holds, self.today):
                outcome.held.append(candidate.case_id)
            elif owed is not None:  # else closed too recently (the query reads few such)
                due.append(owed)
        if dry_run:
            outcome.destroyed = due
        else:
            await self._destroy(due, outcome)
        return outcome, (page[-1].case_id if len(page) == limit else None)

    async def _destroy(self, due: list[Due], outcome: PageOutcome) -> None:
        recorded = await asyncio.gather(*(self._record(d) for d in due))
        for d, refusal in zip(due, recorded, strict=True):
            if refusal is None:
                outcome.destroyed.append(d)
            else:
                outcome.refused.append((d.case_id, refusal))
        cases = [d.case_id for d in outcome.destroyed] + outcome.repaired
        if cases:
            async with self.pool.acquire() as conn:
                await data_keys.destroy_recorded(conn, cases, datetime.now(UTC))

    async def _record(self, due: Due) -> str | None:
        """Append the case's `CaseRecordsDestroyed`; the refusing rule (or error code) when the
        case said no: its key stays, and the next run judges it again."""
        event = Proposed(
            "CaseRecordsDestroyed",
            {
                "destroyed_on": due.destroyed_on.isoformat(),
                "rule": due.rule,
                "period_years": due.period_years,
            },
            # The same id for the same destruction: a retry of a lost answer replays it.
            uuid.uuid5(_EVENT_IDS, f"{due.case_id}/{due.destroyed_on}"),
            {"source": "caseledger retention run", "correlation_id": self.correlation_id},
        )
        async with self._slots:
            try:
                await self.handler.append(RUN_PRINCIPAL, due.case_id, None, [event])
            except ServiceError as refused:  # a rule, or a case that kept changing: next run
                return str(refused.extra.get("rule") or refused.code)
        return None
