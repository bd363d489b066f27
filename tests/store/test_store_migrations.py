"""The one migration history runs on every backend and may run again without harm."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_backends import BACKENDS, add_agent, add_department, database_url, opened_store

from helpline.core.events import NewEvent
from helpline.core.model import SYSTEM
from helpline.outbound.repository import Deliveries
from helpline.store.base import Store
from helpline.store.migrate import head_revision, upgrade
from helpline.store.unit_of_work import UnitOfWork

TABLES = {
    "accounts",
    "departments",
    "agents",
    "agent_departments",
    "agent_keys",
    "endpoints",
    "api_tokens",
    "contacts",
    "conversations",
    "messages",
    "history_entries",
    "counters",
    "events",
    "deliveries",
    "delivery_attempts",
}

HEAD = head_revision()


def _version_and_counters(store: Store) -> tuple[list[str], dict[str, int]]:
    def work(uow: UnitOfWork) -> tuple[list[str], dict[str, int]]:
        db = uow.db
        versions = [
            r["version_num"] for r in db.execute("SELECT version_num FROM alembic_version").fetchall()
        ]
        counters = {
            r["name"]: int(r["value"]) for r in db.execute("SELECT name, value FROM counters").fetchall()
        }
        return versions, counters

    return store.read_sync(work)


def test_a_fresh_database_gets_every_table(any_store: Store) -> None:
    def tables(uow: UnitOfWork) -> set[str]:
        db = uow.db
        if any_store.url.startswith("sqlite:"):
            found = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        else:
            found = db.execute(
                "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
            ).fetchall()
        return {r["name"] for r in found}

    assert any_store.read_sync(tables) >= {*TABLES, "alembic_version"}
    assert _version_and_counters(any_store) == ([HEAD], {"events": 0, "planned_events": 0})


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_run_twice_are_idempotent_and_keep_data(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        upgrade(url)
        upgrade(url)
        with opened_store(url) as store:  # migrates a third time
            account = store.write_sync(lambda uow: uow.accounts.create("Acme", uow.now))
            store.write_sync(lambda uow: uow.emit(NewEvent(account.id, "test.event", {}, SYSTEM)))
            store.migrate()
        upgrade(url)
        with opened_store(url) as reopened:
            assert [a.name for a in reopened.read_sync(lambda uow: uow.accounts.list())] == ["Acme"]
            counted = 0 if backend == "sqlite" else 1  # SQLite numbers events by rowid, not by the counter
            assert _version_and_counters(reopened) == ([HEAD], {"events": counted, "planned_events": 0})
            assert reopened.read_sync(lambda uow: uow.events.last_seq()) == 1


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_every_test_starts_from_a_fresh_migration(any_store: Store, round_: int) -> None:
    """The fixtures reuse one database per module or a copied template: nothing may leak between tests."""

    def leftovers(uow: UnitOfWork) -> tuple[int, ...]:
        return tuple(
            int(uow.db.execute(f"SELECT COUNT(*) AS n FROM {table}").fetchone()["n"])  # noqa: S608
            for table in sorted(TABLES - {"counters"})
        )

    assert set(any_store.read_sync(leftovers)) == {0}
    assert _version_and_counters(any_store) == ([HEAD], {"events": 0, "planned_events": 0})

    def write(uow: UnitOfWork) -> tuple[int, int]:
        account = uow.accounts.create(f"round {round_}", uow.now)
        add_agent(uow, account.id, "Alice", [add_department(uow, account.id).id])
        Deliveries.from_uow(uow).set_planned_up_to(5)
        return account.id, uow.emit(NewEvent(account.id, "test.event", {}, SYSTEM)).seq

    assert any_store.write_sync(write) == (1, 1)  # ids and the event sequence start over too


def test_the_quick_head_reading_agrees_with_alembic() -> None:
    from helpline.store.migrate import scripted_head

    assert scripted_head() == head_revision()


def test_a_database_at_head_is_not_migrated_again(any_database_url: str) -> None:
    from helpline.store.migrate import current_revision

    assert current_revision(any_database_url) == HEAD
    upgrade(any_database_url)  # at head: one query, no Alembic run
    assert current_revision(any_database_url) == HEAD


def test_every_sqlite_table_keyed_by_one_integer_has_it_as_its_rowid(tmp_path: Path) -> None:
    """The SQLite store reads a new row's key from the cursor's ``lastrowid`` (no ``RETURNING``): that is
    only the key where a table's single ``INTEGER PRIMARY KEY`` is the rowid itself."""
    import sqlite3

    path = tmp_path / "helpline.db"
    upgrade(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    try:
        checked = []
        for table, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall():
            keys = [(row[1], row[2]) for row in db.execute(f"PRAGMA table_info({table})") if row[5]]
            if len(keys) != 1 or keys[0][0] not in ("id", "seq"):
                continue
            assert keys[0][1] == "INTEGER", (
                f"{table}.{keys[0][0]} is {keys[0][1]}, not INTEGER: no rowid alias"
            )
            assert "WITHOUT ROWID" not in sql.upper(), table
            checked.append(table)
        assert {"messages", "events", "conversations", "accounts"} <= set(checked)
    finally:
        db.close()
