"""The composition root: everything a request needs, built once in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.policy import PolicyTable
from app.service.append import AppendHandler
from app.service.case_keys import CaseKeys
from app.service.keys import KeyCache
from app.settings import Settings
from app.store.pool import Pool


@dataclass(slots=True)
class AppContext:
    settings: Settings
    pool: Pool
    policy: PolicyTable
    handler: AppendHandler
    keys: KeyCache
    case_keys: CaseKeys  # opens each case's sealed personal values (docs/privacy.md)
