"""The performance-based-agreement payment ledger: pure rules, no I/O, no clock reads.

The case layer folds recorded facts with `evolve_ledger`, asks `decide_ledger` before
recording a PBA event or a milestone's pre-authorization, and serves `ledger_view`.
Money is Decimal throughout. The rules live in `ledger_state` (what is remembered),
`ledger_rules` (4.2, 4.3, 4.5), `ledger_evidence` (4.4, 4.6) and `ledger_view` (4.1, 4.7).
"""

from app.domain.ledger_evidence import ClockOn
from app.domain.ledger_rules import decide_ledger
from app.domain.ledger_state import (
    LedgerState,
    evolve_ledger,
    initial_ledger_state,
    open_pba_id,
    pba_provider,
)
from app.domain.ledger_view import MilestoneLine, PbaLedger, ledger_view, money

__all__ = [
    "ClockOn",
    "LedgerState",
    "MilestoneLine",
    "PbaLedger",
    "decide_ledger",
    "evolve_ledger",
    "initial_ledger_state",
    "ledger_view",
    "money",
    "open_pba_id",
    "pba_provider",
]
