"""Configuration from environment variables (prefix CASELEDGER_, plus DATABASE_URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.policy import DEFAULT_POLICY, PolicyTable, load_policy

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASELEDGER_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="postgresql+asyncpg://... ; unset means the embedded PostgreSQL in data_dir",
    )
    data_dir: Path = REPO_ROOT / ".data" / "postgres"
    policy_file: Path | None = None
    pool_min_size: int = 2
    pool_max_size: int = 10
    max_body_bytes: int = 1024 * 1024
    max_events_per_append: int = 1000
    append_retries: int = 5
    state_cache_events: int = 200_000  # the service's StateCache: events its cached states hold
    statement_timeout_ms: int = 5000
    db_connect_timeout_s: float = 3.0
    log_level: str = "INFO"

    def policy_table(self) -> PolicyTable:
        """The agency's policy file when one is configured, else the built-in table.

        The service, the importer and the rebuild all take it from here, so they
        never judge the same events by different rules.
        """
        return load_policy(self.policy_file) if self.policy_file else DEFAULT_POLICY


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
