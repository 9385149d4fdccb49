"""After an attempt that did not write: the original's answer, a conflict, the refusal, or one more try.

An attempt fails two ways: it lost the race for the case's head (`appends.LostRace`), or
a decider refused the batch on a state read from the database. Either may be a retry
of a batch that raced its own original (contract section 1, `app.service.idempotency`):
then the original, visible now, answers. Otherwise a lost race is a conflict when the
client named a version that is gone and another try when it did not, and a refusal is
the answer (a refused milestone claim is kept, so the ledger lists it with its reason).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg

from app.domain.batch import Refused
from app.service.idempotency import Appended, Opener, original_answer
from app.service.keys import Principal
from app.service.refusals import keep_refused_claim, keeps_claim, refusal_error, version_conflict
from app.service.validate import Validated
from app.store import appends
from app.store import streams as store


async def after_lost_race(
    conn: asyncpg.Connection,
    case_id: str,
    expected_version: int | None,
    batch: Sequence[Validated],
    race: appends.LostRace,
    opened: Opener,
) -> Appended | None:
    """The original's answer when this was a retry of it; a conflict when the client
    named a version that is gone; otherwise None: the caller tries again."""
    original = await original_answer(conn, case_id, batch, opened)
    if original is not None:
        return original
    if race.head_moved and expected_version is not None:
        current = race.current_version
        raise version_conflict(expected_version, current or await store.current_version(conn, case_id))
    return None


async def after_refusal(
    conn: asyncpg.Connection,
    principal: Principal,
    case_id: str,
    batch: Sequence[Validated],
    refused: Refused,
    opened: Opener,
    on_refusal: Callable[[str], None],
) -> Appended:
    """A refusal decided against a state that already held this batch's original (a retry
    that raced it) is no refusal: the original answers. Otherwise the refusal is raised."""
    original = await original_answer(conn, case_id, batch, opened)
    if original is not None:
        return original
    on_refusal(refused.refusal.rule)
    if keeps_claim(refused):
        await keep_refused_claim(conn, principal, case_id, refused)
    raise refusal_error(refused)
