"""Many clients send the same batch at the same moment: every one gets the original answer.

Contract section 1: a retry with the same event_ids and content is a no-op that
returns the original result. A retry that read the case just before the
original committed decides against a state that already holds the original's
events; it must not answer the rule's refusal (`authorization_already_issued`,
`case_already_opened`, ...) nor a version conflict, but the original result.
Each round is one batch of an event type a rule lets happen once, sent by
CLIENTS clients at once, with and without `expected_version`, spread over
SERVERS app instances on one database (as several server processes are): an
instance that did not write the case has no cached state and reads it, which is
where a retry meets its original half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.store.pool import Pool
from tests.builders import (
    authorization,
    case_opened,
    milestone_authorization,
    pba_opened,
    plan_signed,
    with_id,
)
from tests.conftest import Api, make_api

CLIENTS = 8
# 50 rounds per case in the suite (a few seconds); CASELEDGER_RACE_ROUNDS=500 for a long soak.
ROUNDS = int(os.environ.get("CASELEDGER_RACE_ROUNDS", "50"))
SERVERS = 4
PROVIDER = "prov-race"


def _once(kind: str, n: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events that prepare round `n`'s case, and the event a rule lets happen once."""
    opened = case_opened()
    if kind == "CaseOpened":
        return [], opened
    if kind == "AuthorizationIssued":
        return [opened], authorization(f"A{n}", "2024-01-05", "2024-01-31", provider=PROVIDER)
    pba = f"P{n}"
    if kind == "PBAOpened":
        return [opened], pba_opened(pba, PROVIDER)
    signed_auth = milestone_authorization(f"AS{n}", pba, "placement_plan_signed", provider=PROVIDER)
    return [opened, pba_opened(pba, PROVIDER), signed_auth], plan_signed(pba, f"AS{n}")


@pytest.fixture(scope="module")
async def servers(database_url: str, pool: Pool) -> AsyncIterator[list[Api]]:
    async with contextlib.AsyncExitStack() as stack:
        apps = []
        for _ in range(SERVERS):
            running = make_api(database_url, pool)
            apps.append(await anext(running))
            stack.push_async_callback(running.aclose)
        yield apps


async def _round(apis: list[Api], kind: str, n: int, *, with_version: bool) -> list[tuple[int, Any]]:
    api = apis[n % len(apis)]
    case_id = f"race-{uuid.uuid4().hex[:12]}"
    before, once = _once(kind, n)
    if before:
        r = await api.append(case_id, *before)
        assert r.status_code == 201, r.text
    body: dict[str, Any] = {"events": [with_id(once, uuid.uuid4())]}
    if with_version:
        body["expected_version"] = len(before)
    answers = await asyncio.gather(
        *(apis[c % len(apis)].post(f"/cases/{case_id}/events", body) for c in range(CLIENTS))
    )
    return [(r.status_code, r.json()) for r in answers]


def _no_flip(answers: list[tuple[int, Any]]) -> None:
    assert [status for status, _ in answers] == [201] * CLIENTS, answers
    firsts = [body for _, body in answers if not body["idempotent_replay"]]
    assert len(firsts) == 1, answers
    original = (firsts[0]["version"], firsts[0]["events"])
    assert all((body["version"], body["events"]) == original for _, body in answers)


@pytest.mark.parametrize("with_version", [False, True], ids=["any-version", "expected-version"])
@pytest.mark.parametrize("kind", ["CaseOpened", "AuthorizationIssued", "PBAOpened", "PBAMilestoneReached"])
async def test_the_same_batch_sent_by_many_clients_at_once_never_flips(
    servers: list[Api], kind: str, with_version: bool
) -> None:
    for n in range(ROUNDS):
        _no_flip(await _round(servers, kind, n, with_version=with_version))
