"""`caseledger retention run`: every page of closed cases, and what the run did (docs/privacy.md).

The walk reads a page of candidates at a time (one query), appends each due case's
`CaseRecordsDestroyed` through the append path (a few at once), then destroys the
page's keys in one statement (`app.service.retention`). Memory holds one page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from app.domain.policy import PolicyTable
from app.domain.retention import Due
from app.service.retention import PageOutcome, RetentionRun
from app.store.pool import Pool

PAGE = 500


@dataclass(slots=True)
class RetentionReport:
    today: date
    period_years: int
    dry_run: bool
    destroyed: list[Due] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def add(self, page: PageOutcome) -> None:
        self.destroyed += page.destroyed
        self.repaired += page.repaired
        self.held += page.held
        self.refused += page.refused

    def lines(self) -> list[str]:
        """What the run did, one line a case, then the counts (what a dry run would do)."""
        verb = "would destroy" if self.dry_run else "destroyed"
        out = [f"{verb} {d.case_id}: {d.rule}, {d.period_years} years" for d in self.destroyed]
        out += [
            f"{'would complete' if self.dry_run else 'completed'} {c}: key of a recorded destruction"
            for c in self.repaired
        ]
        out += [f"held {c}: a legal hold is in force" for c in self.held]
        out += [f"refused {c}: {rule}" for c, rule in self.refused]
        mode = ", dry run" if self.dry_run else ""
        out.append(
            f"retention {self.today} ({self.period_years} years after closure{mode}): "
            f"{len(self.destroyed)} {verb}, {len(self.repaired)} completed, {len(self.held)} held, "
            f"{len(self.refused)} refused"
        )
        return out


async def run_retention(
    pool: Pool,
    policy: PolicyTable,
    *,
    today: date,
    dry_run: bool,
    page: int = PAGE,
    on_page: Callable[[PageOutcome], None] | None = None,
) -> RetentionReport:
    """Walk every page; in a dry run nothing is written."""
    run = RetentionRun(pool, policy, today=today)
    report = RetentionReport(today, run.period_years, dry_run)
    after: str | None = ""
    while after is not None:
        outcome, after = await run.page(after, page, dry_run=dry_run)
        report.add(outcome)
        if on_page is not None:
            on_page(outcome)
    return report
