"""API keys and roles (contract section 6).

A key is 256 random bits shown once; only its SHA-256 is stored. A looked-up
key is cached for a few seconds so a read does not cost an extra round trip;
a revocation takes effect within that time on every replica.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Literal

import asyncpg

from app.store import keys as key_store
from app.store.pool import Pool

Role = Literal["case_system", "provider", "auditor", "admin"]
ROLES: tuple[Role, ...] = ("case_system", "provider", "auditor", "admin")
KEY_PREFIX = "cl_"
CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    role: Role
    provider_id: str | None = None

    @property
    def actor(self) -> str:
        """What `metadata.actor` records: the role and key, never the key's secret."""
        if self.role == "provider":
            return f"provider:{self.provider_id}:{self.key_id}"
        return f"{self.role}:{self.key_id}"


def hash_key(key: str) -> str:
    """What is stored of a bearer secret, an API key or a UI session id: its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(
    conn: asyncpg.Connection,
    *,
    role: Role,
    provider_id: str | None = None,
    label: str | None = None,
) -> tuple[str, str]:
    """Returns (key_id, key). The key itself is not stored and cannot be shown again."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if (role == "provider") != (provider_id is not None):
        raise ValueError("a provider key needs --provider-id, and only a provider key takes one")
    key_id = secrets.token_hex(6)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    await key_store.insert_key(
        conn, key_id=key_id, key_hash=hash_key(key), role=role, provider_id=provider_id, label=label
    )
    return key_id, key


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> bool:
    return await key_store.revoke_key(conn, key_id)


async def any_admin_key(conn: asyncpg.Connection) -> bool:
    return await key_store.any_admin_key(conn)


async def first_admin_key(conn: asyncpg.Connection) -> str | None:
    """A new admin key on a database that has none (the first start), else None."""
    if await any_admin_key(conn):
        return None
    return (await create_key(conn, role="admin", label="first start"))[1]


async def list_keys(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every key's id, role, provider, label and dates: never the key or its hash."""
    return await key_store.list_keys(conn)


class KeyCache:
    """Recently looked-up keys by hash, misses included, for CACHE_SECONDS."""

    def __init__(self, ttl: float = CACHE_SECONDS, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def forget(self, key_id: str) -> None:
        """Drop a revoked key at once in this process (other replicas: within the TTL)."""
        for digest, (_, found) in list(self._entries.items()):
            if found is not None and found.key_id == key_id:
                del self._entries[digest]

    async def principal(self, conn_source: Pool, key: str) -> Principal | None:
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._entries.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        row = await key_store.principal_row(conn_source, digest)
        found = Principal(row["key_id"], row["role"], row["provider_id"]) if row else None
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[digest] = (now + self._ttl, found)
        return found
