"""What the service answers when a rule or a race says no, and the refused claims it keeps."""

from __future__ import annotations

import hashlib

import asyncpg
import orjson

from app.domain.batch import Refused
from app.domain.case import CaseState
from app.domain.facts import Refusal
from app.domain.ledger import pba_provider
from app.service.errors import ServiceError
from app.service.keys import Principal
from app.service.validate import Validated
from app.store import appends


def version_conflict(expected: int | None, current: int) -> ServiceError:
    detail = (
        f"expected version {expected} but the case is at version {current}"
        if expected is not None
        else "the case kept changing under this append; try again"
    )
    return ServiceError("version_conflict", detail, current_version=current)


def provider_check(principal: Principal):  # type: ignore[no-untyped-def]
    """The batch loop's pre-check for a provider key: it touches only its own PBA, and
    another's is answered as not found. None for any other role."""
    if principal.role != "provider":
        return None

    def check(state: CaseState, item: Validated) -> Refusal | None:
        if pba_provider(state.ledger, getattr(item.event, "pba_id", "")) == principal.provider_id:
            return None
        return Refusal(
            "provider_owns_pba", "no open PBA of this provider on this case", code="case_not_found"
        )

    return check


def refusal_error(refused: Refused) -> ServiceError:
    refusal, index = refused.refusal, refused.index
    if refusal.code == "case_not_found":
        return ServiceError("case_not_found", refusal.detail, rule=refusal.rule, event_index=index)
    return ServiceError(
        refusal.code,
        refusal.detail,
        rule=refusal.rule,
        event_index=index,
        event_type=refused.proposal.event.TYPE,
    )


def keeps_claim(refused: Refused) -> bool:
    return refused.proposal.event.TYPE == "PBAMilestoneReached" and refused.refusal.code == "rule_violation"


async def keep_refused_claim(
    conn: asyncpg.Connection, principal: Principal, case_id: str, refused: Refused
) -> None:
    """A refused milestone claim is kept once, so the ledger can list it with its reason."""
    item = refused.proposal
    assert isinstance(item, Validated)
    claim = orjson.dumps({"type": item.event.TYPE, "data": item.data}, option=orjson.OPT_SORT_KEYS)
    key = str(item.event_id) if item.client_supplied_id else hashlib.sha256(claim).hexdigest()
    pba_id = item.data.get("pba_id")
    provider = pba_provider(refused.state.ledger, pba_id) or principal.provider_id
    await appends.keep_refused_claim(
        conn,
        (
            case_id,
            key,
            pba_id,
            provider,
            item.event.TYPE,
            item.data,
            refused.refusal.rule,
            refused.refusal.detail,
            principal.actor,
        ),
    )
