"""The decide step of an append: the batch judged against the case's state, all or nothing.

The batch is decided with the `recorded_at` its events will carry (folds may keep it), at
the head it will be written on, so what is written is exactly what was decided; the plan
that writes it is `app.domain.append_plan`. A refusal leaves as `RefusedBatch`, out of any
transaction (a refused milestone claim is kept outside it), marked `trusted` when the state
came from the database: a refusal decided on this process's cached state may be stale and
is decided again on a state read from the database before it is believed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.append_plan import Head, recording_time
from app.domain.batch import Refused, decide_batch
from app.domain.case import CaseState
from app.domain.facts import Fact
from app.domain.policy import PolicyTable
from app.service.keys import Principal
from app.service.refusals import provider_check
from app.service.validate import Validated


@dataclass(frozen=True, slots=True)
class Decided:
    """A batch the rules accepted: the head it was decided at, the states before and after
    it, and the recording time it was decided with (the write step plans with all four)."""

    head: Head
    before: CaseState
    after: CaseState
    batch: Sequence[Validated]
    at: datetime


class RefusedBatch(Exception):
    """A decider said no; carried out of any transaction before the claim is kept."""

    def __init__(self, refused: Refused, *, trusted: bool) -> None:
        super().__init__(refused.refusal.detail)
        self.refused = refused
        self.trusted = trusted  # decided on a state read from the database, not only cached


def decide(
    policy: PolicyTable,
    principal: Principal,
    head: Head,
    state: CaseState,
    history: list[Fact] | None,
    batch: Sequence[Validated],
    now: datetime,
    *,
    trusted: bool,
) -> Decided:
    """The batch decided on `state` at `head` (`history` too when a retraction needs it)."""
    at = recording_time(head, now)
    outcome = decide_batch(
        state,
        history,
        batch,
        policy,
        version=head.version,
        at=at,
        keep_going=False,
        pre_check=provider_check(principal),
    )
    if outcome.refused:
        raise RefusedBatch(outcome.refused[0], trusted=trusted)
    return Decided(head, state, outcome.state, batch, at)
