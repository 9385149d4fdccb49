"""Configuration from environment variables (prefix CASELEDGER_, plus DATABASE_URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
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
    # Least privilege (docs/operations.md): DATABASE_URL is the owner's, for migrate,
    # import and rebuild; `serve` connects as the app role, through app_database_url
    # when set (else DATABASE_URL itself; embedded: the app role on the same server).
    # `migrate` creates the role, with app_role_password when set (else none: trust,
    # peer or certificate authentication).
    app_database_url: str | None = None
    app_role: str = "caseledger_app"
    app_role_password: SecretStr | None = None
    policy_file: Path | None = None
    pool_min_size: int = 2
    pool_max_size: int = 10
    max_body_bytes: int = 1024 * 1024
    append_retries: int = 5
    # The service's StateCache, bounded by the events its cached states stand for: 60k
    # events kept a worker at 121-124 MB under the write benchmark (200k: 179 MB) with
    # the same commands/s (docs/performance.md, section 7).
    state_cache_events: int = 60_000
    statement_timeout_ms: int = 5000
    db_connect_timeout_s: float = 3.0
    log_level: str = "INFO"
    # Signed checkpoints (docs/trust.md): with a key file the service signs one every
    # interval; the key stays on this machine, the database never sees it.
    checkpoint_key_file: Path | None = None
    checkpoint_dir: Path | None = None
    checkpoint_interval_seconds: float = Field(default=60.0, gt=0)
    checkpoint_origin: str = "caseledger.local/ledger"
    # Sealing (docs/privacy.md): the master key that wraps every case's data key, kept
    # outside the database. A configured file must exist; unset means `master.key` beside
    # the embedded data folder (data_dir's parent, with DATABASE_URL too), created on the
    # first start.
    master_key_file: Path | None = None

    def policy_table(self) -> PolicyTable:
        """The agency's policy file when one is configured, else the built-in table.

        The service, the importer and the rebuild all take it from here, so they
        never judge the same events by different rules.
        """
        return load_policy(self.policy_file) if self.policy_file else DEFAULT_POLICY

    def master_key_path(self) -> Path:
        """The master key file: the configured one, else the default beside the data folder."""
        return self.master_key_file or self.data_dir.parent / "master.key"

    def policy_id(self) -> str:
        """The name the policy table's versions carry in the checkpoint tree."""
        return self.policy_file.stem if self.policy_file else "default"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
