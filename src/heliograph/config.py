"""Settings: read once from HELIOGRAPH_* environment variables, then passed everywhere."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from pathlib import Path

MAX_WEBHOOK_BATCH = 250  # events per webhook POST at most, when batching (HELIOGRAPH_WEBHOOK_BATCH)
CHANNEL_BASE_URL = "HELIOGRAPH_CHANNEL_BASE_URL_"  # + a channel type in capitals: where its API is called


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    account_key_id: str | None = None
    account_key_secret: str | None = None
    max_body_bytes: int = 100 * 1024  # "JSON: 100kb" in the spec's Request Size Limits
    message_limit: int = 30_000  # "Conversations are limited to 30,000 messages"
    key_cache_seconds: float = 1.0  # how long a process may trust a cached API key
    dispatcher: bool = True  # deliver webhooks inside `heliograph serve`
    # The spec's retry policy: 5 attempts over 15 minutes, exponentially spaced, 20 s timeout.
    retry_delays: tuple[float, ...] = (60.0, 120.0, 240.0, 480.0)
    webhook_timeout: float = 20.0
    webhook_batch: int = 1  # events per webhook POST: 1, as the hosted service sends them; up to 250 by choice
    max_upload_bytes: int = 50 * 1024 * 1024  # UploadAttachment: files of at most 50 MB
    attachments_dir: Path | None = None  # where uploads are kept; None: <data_dir>/attachments
    public_url: str | None = None  # scheme://host[/prefix] of mediaUrls; None: the request's scheme and host
    retention_interval: float = 60.0  # seconds between runs of the conversationRetentionSeconds job; 0: never
    stream_heartbeat: float = 25.0  # seconds: a quiet stream's ping; a stream's credentials checked again as often
    # (channel type, base URL of its API) pairs, HELIOGRAPH_CHANNEL_BASE_URL_<TYPE>: a proxy, a fake; the rest
    # call the channel's own API (docs/channels.md)
    channel_base_urls: tuple[tuple[str, str], ...] = ()
    # HELIOGRAPH_CHANNELS: `live` (the channels' APIs, or their base URLs above), or `simulate`: every channel
    # call goes to the built-in fakes instead, and the simulator's endpoints and `heliograph sim` work
    channels: str = "live"

    @property
    def simulate_channels(self) -> bool:
        return self.channels == "simulate"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def attachments_path(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("HELIOGRAPH_DATA_DIR", "data")).resolve()
        default_url = f"sqlite+aiosqlite:///{data_dir / 'heliograph.sqlite3'}"
        return cls(
            database_url=normalise_url(env.get("HELIOGRAPH_DATABASE_URL") or default_url),
            data_dir=data_dir,
            account_key_id=env.get("HELIOGRAPH_ACCOUNT_KEY_ID") or None,
            account_key_secret=env.get("HELIOGRAPH_ACCOUNT_KEY_SECRET") or None,
            dispatcher=env.get("HELIOGRAPH_DISPATCHER", "on").lower() not in ("off", "0", "false", "no"),
            retry_delays=_seconds_list(env.get("HELIOGRAPH_WEBHOOK_RETRY_DELAYS"), cls.retry_delays),
            webhook_timeout=float(env.get("HELIOGRAPH_WEBHOOK_TIMEOUT") or cls.webhook_timeout),
            webhook_batch=_batch(env.get("HELIOGRAPH_WEBHOOK_BATCH"), cls.webhook_batch),
            attachments_dir=Path(env["HELIOGRAPH_ATTACHMENTS_DIR"]).resolve()
            if env.get("HELIOGRAPH_ATTACHMENTS_DIR") else None,
            public_url=_public_url(env.get("HELIOGRAPH_PUBLIC_URL")),
            retention_interval=_interval(env.get("HELIOGRAPH_RETENTION_INTERVAL"), cls.retention_interval),
            stream_heartbeat=_heartbeat(env.get("HELIOGRAPH_STREAM_HEARTBEAT"), cls.stream_heartbeat),
            channel_base_urls=_channel_base_urls(env),
            channels=_channels(env.get("HELIOGRAPH_CHANNELS")),
        )


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite://) and pick our async drivers."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    return url


def _seconds_list(value: str | None, default: tuple[float, ...]) -> tuple[float, ...]:
    """`60,120,240,480`: the waits before the 2nd, 3rd … attempt (so len + 1 attempts in all)."""
    if not value:
        return default
    return tuple(float(part) for part in value.split(",") if part.strip())


def _public_url(value: str | None) -> str | None:
    """`https://chat.example.com[/prefix]`, without the trailing slash; refused unless http(s)."""
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"HELIOGRAPH_PUBLIC_URL must start with http:// or https://, not {value!r}")
    return value.rstrip("/")


def _channel_base_urls(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """HELIOGRAPH_CHANNEL_BASE_URL_TELEGRAM=http://127.0.0.1:8081 …: each an http(s) URL, trailing slash dropped."""
    found = []
    for name, value in sorted(env.items()):
        if name.startswith(CHANNEL_BASE_URL) and value:
            if not value.startswith(("http://", "https://")):
                raise ValueError(f"{name} must start with http:// or https://, not {value!r}")
            found.append((name[len(CHANNEL_BASE_URL):].lower(), value.rstrip("/")))
    return tuple(found)


def _channels(value: str | None) -> str:
    """HELIOGRAPH_CHANNELS: `live` (the default) or `simulate`."""
    mode = (value or "live").strip().lower()
    if mode not in ("live", "simulate"):
        raise ValueError(f"HELIOGRAPH_CHANNELS must be live or simulate, not {value!r}")
    return mode


def _interval(value: str | None, default: float) -> float:
    """HELIOGRAPH_RETENTION_INTERVAL: seconds, 0 to turn the job off; refused if negative or not a number."""
    if not value:
        return default
    seconds = float(value)
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"HELIOGRAPH_RETENTION_INTERVAL must be 0 or more seconds, not {value!r}")
    return seconds


def _heartbeat(value: str | None, default: float) -> float:
    """HELIOGRAPH_STREAM_HEARTBEAT: seconds, more than 0; refused if not a number of seconds."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"HELIOGRAPH_STREAM_HEARTBEAT must be a number of seconds more than 0, not {value!r}")
    return seconds


def _batch(value: str | None, default: int) -> int:
    """HELIOGRAPH_WEBHOOK_BATCH: events per webhook POST, a whole number from 1 to 250; refused otherwise."""
    if not value:
        return default
    count = int(value) if value.strip().isdigit() else 0
    if not 1 <= count <= MAX_WEBHOOK_BATCH:
        raise ValueError(f"HELIOGRAPH_WEBHOOK_BATCH must be a whole number of events per POST from 1 to "
                         f"{MAX_WEBHOOK_BATCH}, not {value!r}")
    return count
