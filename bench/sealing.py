"""Issue 13, item 2: what sealing personal data per case costs appends (a step of `dev.py bench`).

8 writers append through `AppendHandler`, each a stream of new cases of three appends:
CaseOpened; EmploymentStarted with an employer and a note; EmploymentEnded with a reason
(two of three events carry personal values, and every case is new, so each pays the round
trip that stores its data key: the worst case for sealing). Two handlers share one pool
and one database: without `CaseKeys` (values stored clear) and with them (AES-256-GCM under
a data key per case, wrapped by a master key, as the service runs). Windows alternate
A B B A in each repeat. Target: sealed >= 0.9 x clear.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from app.domain.data_keys import AesGcmMasterKey
from app.domain.policy import DEFAULT_POLICY
from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.keys import Principal
from app.service.validate import Proposed
from app.store.db import create_pool
from bench.appends import summed, timed_writers
from bench.common import Databases, check_stop, log

WRITERS = 8
WRITER = Principal("bench-seal", "case_system")
OPENED = {
    "opened_on": "2024-01-02",
    "supported_employment": False,
    "ipe_service_categories": ["job_coaching"],
}
JOB = {
    "job_id": "j1",
    "start_date": "2024-02-01",
    "employer": "Riverside Community Hospital",
    "soc_code": "35-2014",
    "hours_per_week": 30,
    "hourly_wage": "15.50",
}
ENDED = {"job_id": "j1", "end_date": "2024-03-01", "reason": "moved away to care for a parent"}


def case_appends() -> list[list[Proposed]]:
    """One case's three appends (fresh objects: the handler may keep what it is given)."""
    return [
        [Proposed("CaseOpened", dict(OPENED))],
        [Proposed("EmploymentStarted", dict(JOB), metadata={"note": "prefers morning shifts"})],
        [Proposed("EmploymentEnded", dict(ENDED))],
    ]


def case_steps(handler: AppendHandler) -> Callable[[int], Awaitable[int]]:
    """Each call appends the next event of writer w's current case (a new case after three)."""
    run = uuid.uuid4().hex[:8]
    counters = [itertools.count() for _ in range(WRITERS)]
    pending: list[list[list[Proposed]]] = [[] for _ in range(WRITERS)]
    current = [""] * WRITERS

    async def step(w: int) -> int:
        if not pending[w]:
            pending[w], current[w] = case_appends(), f"seal-{run}-{w}-{next(counters[w])}"
        await handler.append(WRITER, current[w], None, pending[w].pop(0))
        return 1

    return step


async def sealing_ratio(databases: Databases, *, seconds: float, repeats: int) -> dict[str, Any]:
    """Per repeat one window clear and one sealed (order alternating), same pool and database."""
    url = await databases.create("seal")
    pool = await create_pool(url, min_size=WRITERS, max_size=WRITERS + 2)
    keys = CaseKeys(AesGcmMasterKey(os.urandom(32)))
    steps = {
        "clear": case_steps(AppendHandler(pool, DEFAULT_POLICY)),
        "sealed": case_steps(AppendHandler(pool, DEFAULT_POLICY, keys=keys)),
    }
    runs: dict[str, list[dict[str, Any]]] = {"clear": [], "sealed": []}
    try:
        for repeat in range(repeats):
            check_stop()
            windows: dict[str, list[tuple[int, float, Any]]] = {"clear": [], "sealed": []}
            for kind in ("clear", "sealed", "sealed", "clear"):  # A B B A: drift hits both alike
                windows[kind].append(await timed_writers(WRITERS, steps[kind], seconds / 2))
            for kind, timed in windows.items():
                runs[kind].append(summed(timed))
            log(
                f"  sealing repeat {repeat + 1}: clear {runs['clear'][-1]['rate']:,.0f} events/s, "
                f"sealed {runs['sealed'][-1]['rate']:,.0f} events/s"
            )
        async with pool.acquire() as conn:
            data_keys = await conn.fetchval("SELECT count(*) FROM case_data_keys")
    finally:
        await pool.close()
        await databases.drop(url)
    if not data_keys:
        raise RuntimeError("the sealed windows stored no data key: sealing was not on")
    return {**runs, "data_keys": data_keys}
