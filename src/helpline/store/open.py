"""Pick the backend from the database URL."""

from __future__ import annotations

from pathlib import Path

from helpline.core.ports import Clock
from helpline.store import secret_box
from helpline.store.db_clock import DatabaseClock
from helpline.store.postgres import PostgresStore
from helpline.store.sqlite import SqliteStore

AnyStore = SqliteStore | PostgresStore


def default_url(data_dir: str) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'helpline.db'}"


def open_store(
    url: str, clock: Clock | None = None, migrate: bool = True, data_dir: str | None = None
) -> AnyStore:
    """Open (and migrate) the store, with the server key (``secret_box``) from ``$HELPLINE_SECRET_KEY`` or
    the key file in ``data_dir`` (for SQLite, default: the database file's directory).

    On PostgreSQL, without a ``clock`` given, units of work take ``now`` from the database server's clock
    (:class:`DatabaseClock`), which several processes share."""
    store: AnyStore
    if url.startswith(("postgresql://", "postgres://")):
        database_clock = DatabaseClock() if clock is None else None
        store = PostgresStore(url, database_clock or clock)
        if database_clock is not None:
            database_clock.measure(store)
    elif url.startswith("sqlite:///"):
        store = SqliteStore(url, clock)
    else:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
    if data_dir is None and isinstance(store, SqliteStore):
        data_dir = str(Path(store.path).parent)
    box = secret_box.load(data_dir)
    secret_box.install(box)
    if migrate:
        store.migrate()
        # Plaintext rows from before secrets were sealed are sealed now, once.
        store.write_sync(lambda uow: secret_box.reseal(uow.db, box))
    return store
