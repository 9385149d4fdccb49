"""The read-model projections of one policy, as the append plan and the rebuild call them."""

from __future__ import annotations

from functools import partial

from app.domain.append_plan import Projector
from app.domain.policy import PolicyTable
from app.projections.closure_clock import clock_row
from app.projections.ledger import ledger_rows


def projector(policy: PolicyTable) -> Projector:
    return Projector(partial(clock_row, policy=policy), partial(ledger_rows, policy=policy))
