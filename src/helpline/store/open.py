"""Pick the backend from the database URL."""

from __future__ import annotations

from pathlib import Path

from helpline.core.ports import Clock
from helpline.store.postgres import PostgresStore
from helpline.store.sqlite import SqliteStore

AnyStore = SqliteStore | PostgresStore


def default_url(data_dir: str) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'helpline.db'}"


def open_store(url: str, clock: Clock | None = None, migrate: bool = True) -> AnyStore:
    store: AnyStore
    if url.startswith(("postgresql://", "postgres://")):
        store = PostgresStore(url, clock)
    elif url.startswith("sqlite:///"):
        store = SqliteStore(url, clock)
    else:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
    if migrate:
        store.migrate()
    return store
