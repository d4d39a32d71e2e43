"""Settings: read once from HELIOGRAPH_* environment variables, then passed everywhere."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    account_key_id: str | None = None
    account_key_secret: str | None = None
    max_body_bytes: int = 100 * 1024  # "JSON: 100kb" in the spec's Request Size Limits
    message_limit: int = 30_000  # "Conversations are limited to 30,000 messages"
    key_cache_seconds: float = 1.0  # how long a process may trust a cached API key

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("HELIOGRAPH_DATA_DIR", "data")).resolve()
        default_url = f"sqlite+aiosqlite:///{data_dir / 'heliograph.sqlite3'}"
        return cls(
            database_url=normalise_url(env.get("HELIOGRAPH_DATABASE_URL") or default_url),
            data_dir=data_dir,
            account_key_id=env.get("HELIOGRAPH_ACCOUNT_KEY_ID") or None,
            account_key_secret=env.get("HELIOGRAPH_ACCOUNT_KEY_SECRET") or None,
        )


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite://) and pick our async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    return url
