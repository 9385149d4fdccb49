"""What a provider may learn of a case it appends to: nothing, unless it holds an open PBA there.

Checked before the append reads the case's version or looks up the batch's event ids, so
neither a version conflict nor an idempotent replay tells a provider that a case exists,
which version it is at or which event ids it holds; a case without an open PBA of the
provider is answered as one that does not exist. The batch loop's own check
(`app.service.refusals.provider_check`) then keeps each event to the provider's own PBA.
"""

from __future__ import annotations

from app.service.errors import ServiceError
from app.service.keys import Principal
from app.store import providers
from app.store.pool import Pool


async def ensure_provider_sees_case(pool: Pool, principal: Principal, case_id: str) -> None:
    """`case_not_found` for a provider key without an open PBA on the case; nothing for other roles."""
    if principal.role != "provider":
        return
    async with pool.acquire() as conn:
        if not await providers.holds_open_pba_of(conn, case_id, principal.provider_id or ""):
            raise ServiceError("case_not_found", f"no case {case_id} with an open PBA of this provider")
