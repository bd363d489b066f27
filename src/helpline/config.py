"""Settings, read once from the environment (``HELPLINE_*``) and overridable by command-line flags."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from helpline.store.open import default_url

DEFAULT_RETRY_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)

FILE_STORES = ("local", "database")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``127.0.0.1/32,10.0.0.0/8`` → networks the SSRF guard lets through; a bare address means /32 or /128."""
    networks = []
    for part in text.split(","):
        part = part.strip()
        if part:
            networks.append(ipaddress.ip_network(part, strict=False))
    return tuple(networks)


def parse_schedule(text: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in text.split(",") if v.strip())
    if not values or any(v < 0 for v in values):
        raise ValueError(f"a retry schedule is a comma-separated list of seconds ≥ 0, got {text!r}")
    return values


@dataclass(slots=True)
class Settings:
    data_dir: str = "./helpline-data"
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    outbound_allow: tuple[Network, ...] = ()
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    webhook_timeout: float = 10.0
    response_excerpt_bytes: int = 2048
    history_max_bytes: int = 1_000_000
    history_timeout: float = 10.0
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 25 * 1024 * 1024
    public_url: str = ""
    tick_seconds: float = 1.0
    sdk_keepalive_seconds: float = 30.0  # SDK websocket: how often the server sends presence.update
    sdk_idle_timeout_seconds: float = 90.0  # ...and how long a silent client is kept
    max_connections: int = 0  # 0: as many as the open-file limit leaves room for (web.connections)
    head_timeout: float = 10.0  # seconds a request's head may take to arrive
    body_timeout: float = 30.0  # seconds a request's body may stall between chunks
    # Abuse limits of the SDK API (the web widget's), per server process: token buckets refilled per minute.
    sdk_conversations_per_address: float = 20.0  # new conversations a minute from one client address
    sdk_conversations_per_inbox: float = 600.0  # ...and into one inbox from everyone
    sdk_messages_per_contact: float = 120.0  # messages a minute from one contact
    sdk_max_message_chars: int = 10_000
    redis_url: str = ""  # fan-out across processes (realtime.doorbell); empty: this process alone
    redis_channel: str = ""  # empty: derived from the database URL (realtime.doorbell.channel_for)
    file_store: str = "local"  # where uploaded files' bytes live: "local" (files_dir) or "database"
    files_path: str = ""  # the local file store's directory; default <data_dir>/files
    extra: dict[str, str] = field(default_factory=dict)

    def resolved_database_url(self) -> str:
        return self.database_url or default_url(self.data_dir)

    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def files_dir(self) -> str:
        return self.files_path or str(Path(self.data_dir) / "files")


def from_env(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    settings = Settings()
    settings.data_dir = env.get("HELPLINE_DATA_DIR", settings.data_dir)
    settings.database_url = env.get("HELPLINE_DATABASE_URL", "")
    settings.host = env.get("HELPLINE_HOST", settings.host)
    settings.port = int(env.get("HELPLINE_PORT", settings.port))
    settings.outbound_allow = parse_networks(env.get("HELPLINE_OUTBOUND_ALLOW", ""))
    if "HELPLINE_WEBHOOK_RETRY_SCHEDULE" in env:
        settings.retry_schedule = parse_schedule(env["HELPLINE_WEBHOOK_RETRY_SCHEDULE"])
    settings.webhook_timeout = float(env.get("HELPLINE_WEBHOOK_TIMEOUT", settings.webhook_timeout))
    settings.history_timeout = float(env.get("HELPLINE_HISTORY_TIMEOUT", settings.history_timeout))
    settings.history_max_bytes = int(env.get("HELPLINE_HISTORY_MAX_BYTES", settings.history_max_bytes))
    settings.max_body_bytes = int(env.get("HELPLINE_MAX_BODY_BYTES", settings.max_body_bytes))
    settings.tick_seconds = float(env.get("HELPLINE_TICK_SECONDS", settings.tick_seconds))
    settings.max_upload_bytes = int(env.get("HELPLINE_MAX_UPLOAD_BYTES", settings.max_upload_bytes))
    settings.public_url = env.get("HELPLINE_PUBLIC_URL", settings.public_url)
    settings.sdk_keepalive_seconds = float(
        env.get("HELPLINE_SDK_KEEPALIVE_SECONDS", settings.sdk_keepalive_seconds)
    )
    settings.sdk_idle_timeout_seconds = float(
        env.get("HELPLINE_SDK_IDLE_TIMEOUT_SECONDS", settings.sdk_idle_timeout_seconds)
    )
    settings.max_connections = int(env.get("HELPLINE_MAX_CONNECTIONS", settings.max_connections))
    settings.head_timeout = float(env.get("HELPLINE_HEAD_TIMEOUT", settings.head_timeout))
    settings.body_timeout = float(env.get("HELPLINE_BODY_TIMEOUT", settings.body_timeout))
    for name in ("conversations_per_address", "conversations_per_inbox", "messages_per_contact"):
        key = f"HELPLINE_SDK_{name.upper()}"
        if key in env:
            setattr(settings, f"sdk_{name}", float(env[key]))
    settings.sdk_max_message_chars = int(
        env.get("HELPLINE_SDK_MAX_MESSAGE_CHARS", settings.sdk_max_message_chars)
    )
    settings.redis_url = env.get("HELPLINE_REDIS_URL", settings.redis_url)
    settings.redis_channel = env.get("HELPLINE_REDIS_CHANNEL", settings.redis_channel)
    settings.file_store = env.get("HELPLINE_FILE_STORE", settings.file_store).strip().lower()
    if settings.file_store not in FILE_STORES:
        raise ValueError(
            f"HELPLINE_FILE_STORE is one of {', '.join(FILE_STORES)}, got {settings.file_store!r}"
        )
    settings.files_path = env.get("HELPLINE_FILES_DIR", settings.files_path)
    return settings
