"""The payment-ledger read model: one row per PBA, with the full line detail as JSON.

Per-provider answers are sums over these rows; refused claims come from their
own durable log; `app.store.read_models` reads them all back, since a refused claim is not an event.
"""

from __future__ import annotations

from typing import Any

from app.domain.case import CaseState
from app.domain.ledger import ledger_view
from app.domain.policy import PolicyTable


def ledger_rows(state: CaseState, policy: PolicyTable) -> list[dict[str, Any]]:
    return [pba.to_json() for pba in ledger_view(state.ledger, policy)]
