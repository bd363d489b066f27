"""Every storage backend, as pytest fixtures: a test that takes ``any_store`` runs once on SQLite and once
on PostgreSQL (ids ``sqlite`` and ``postgres``), each time on a database that looks freshly migrated.

Reuse from another test directory (there are no ``__init__.py`` files under ``tests/``)::

    # in your conftest.py
    sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
    from store_backends import any_database_url, any_store, postgres_module_url, sqlite_template  # noqa: F401

(``postgres_module_url`` and ``sqlite_template`` are the fixtures the first two are built on; import them
too.) PostgreSQL comes from ``HELPLINE_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). When it is not reachable the PostgreSQL half is skipped,
or errors when ``CI=true``.

Isolation, made cheap (a migration costs 80-150 ms, which hundreds of tests cannot afford):

- SQLite: the migrations run once per session into a template file; each test gets its own copy.
- PostgreSQL: each test module gets its own schema ``hl_<random>``, reached through
  ``?options=-csearch_path%3Dhl_<random>``, migrated once and dropped (CASCADE) after the module; before
  each test every table is emptied and what the migrations seeded (rows and sequence positions) is put
  back, so every test starts from the state of a fresh migration.

For a database the migrations have never touched, use the ``database_url(backend, tmp_path)`` context
manager.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from helpline.core.model import Agent, Department, Presence, Role
from helpline.core.ports import Clock
from helpline.store.base import Store
from helpline.store.migrate import upgrade
from helpline.store.open import open_store
from helpline.store.sqlite import SqliteStore
from helpline.store.unit_of_work import UnitOfWork

POSTGRES_ENV = "HELPLINE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")

_reachable: dict[str, str | None] = {}  # url -> None when reachable, else why not


def postgres_base_url() -> str:
    return os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL


def _shown(url: str) -> str:
    """The URL without its password, fit for a skip message."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def require_postgres(url: str) -> None:
    """Skip the test when PostgreSQL is not reachable (fail instead under ``CI=true``)."""
    if url not in _reachable:
        try:
            psycopg.connect(url, connect_timeout=3, autocommit=True).close()
        except psycopg.Error as error:
            _reachable[url] = str(error).strip()
        else:
            _reachable[url] = None
    why = _reachable[url]
    if why is None:
        return
    message = (
        f"PostgreSQL not reachable at {_shown(url)}; start it or set HELPLINE_TEST_POSTGRES_URL "
        "to run the PostgreSQL half of the storage suite"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} ({why})")
    pytest.skip(message)


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh, empty schema for the duration of the block; yields a URL whose search_path is that schema."""
    schema = "hl_" + secrets.token_hex(6)
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield with_search_path(base_url, schema)
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of ``backend`` that no migration has touched."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'helpline.db'}"
    elif backend == "postgres":
        base = postgres_base_url()
        require_postgres(base)
        with postgres_schema(base) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")


# -- putting a migrated PostgreSQL schema back to its just-migrated state --------------------------------


@dataclass
class _Baseline:
    """What a fresh migration leaves in the schema: tables (children first), seeded rows, sequences."""

    tables: list[str]
    seeds: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)


def _children_first(conn: psycopg.Connection[Any]) -> list[str]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            " ORDER BY tablename"
        ).fetchall()
    ]
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()"
    ).fetchall():
        child, parent = child.split(".")[-1].strip('"'), parent.split(".")[-1].strip('"')
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []  # parents first, then reversed
    while parents:
        ready = sorted(t for t, needs in parents.items() if not needs - set(ordered))
        if not ready:  # a cycle: fall back to whatever is left
            ready = sorted(parents)
        for table in ready:
            ordered.append(table)
            del parents[table]
    return list(reversed(ordered))


def _baseline(url: str) -> _Baseline:
    with psycopg.connect(url, autocommit=True) as conn:
        baseline = _Baseline(tables=_children_first(conn))
        for table in baseline.tables:
            cursor = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            found = cursor.fetchall()
            if found:
                columns = [d.name for d in cursor.description or ()]
                baseline.seeds[table] = (columns, [tuple(r) for r in found])
        for (name,) in conn.execute(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"
        ).fetchall():
            row = conn.execute(
                sql.SQL("SELECT last_value, is_called FROM {}").format(sql.Identifier(name))
            ).fetchone()
            assert row is not None
            baseline.sequences[name] = (int(row[0]), bool(row[1]))
    return baseline


def _reset(url: str, baseline: _Baseline) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        for table in baseline.tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        for table in reversed(baseline.tables):
            if table in baseline.seeds:
                columns, found = baseline.seeds[table]
                insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns)),
                )
                with conn.cursor() as cursor:
                    cursor.executemany(insert, found)
        for name, (value, called) in baseline.sequences.items():
            conn.execute("SELECT setval(%s::regclass, %s, %s)", [name, value, called])


@dataclass
class _ModuleSchema:
    url: str
    baseline: _Baseline


@pytest.fixture(scope="module")
def postgres_module_url() -> Iterator[_ModuleSchema]:
    """A migrated PostgreSQL schema shared by one test module (``any_database_url`` resets it per test)."""
    base = postgres_base_url()
    require_postgres(base)
    with postgres_schema(base) as url:
        upgrade(url)
        yield _ModuleSchema(url, _baseline(url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database in its just-migrated state, private to this test, once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "helpline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    schema: _ModuleSchema = request.getfixturevalue("postgres_module_url")
    _reset(schema.url, schema.baseline)
    return schema.url


@contextmanager
def opened_store(url: str, clock: Clock | None = None, migrate: bool = True) -> Iterator[Store]:
    """A store on ``url`` (migrated unless told otherwise), closed afterwards."""
    store = open_store(url, clock, migrate=migrate)
    try:
        yield store
    finally:
        store.close_sync()


@pytest.fixture
def any_store(any_database_url: str) -> Iterator[Store]:
    """A store on a just-migrated database private to this test, once per backend (``sqlite``, ``postgres``)."""
    with opened_store(any_database_url, migrate=False) as store:
        yield store


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[SqliteStore]:
    """Only the SQLite backend, for what is its own (the group-commit writer)."""
    path = tmp_path / "helpline.db"
    shutil.copyfile(sqlite_template, path)
    store = SqliteStore(f"sqlite:///{path}")
    try:
        yield store
    finally:
        store.close_sync()


class ManualClock:
    """A clock that moves only when told, for tests of timeouts through a real store."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.value = start

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> float:
        self.value += seconds
        return self.value


def is_sqlite(store: Store) -> bool:
    return store.url.startswith("sqlite:")


# -- seeding through the repositories (no argon2: agents get a dummy password hash) --------------------


def add_department(uow: UnitOfWork, account_id: int, name: str = "Support", **fields: Any) -> Department:
    department = Department(id=0, account_id=account_id, name=name, created_at=uow.now, updated_at=uow.now)
    for key, value in fields.items():
        setattr(department, key, value)
    return uow.departments.create(department)


def add_agent(
    uow: UnitOfWork,
    account_id: int,
    name: str,
    department_ids: list[int],
    presence: Presence = Presence.ONLINE,
    role: Role = Role.AGENT,
) -> Agent:
    return uow.agents.create(
        Agent(
            id=0,
            account_id=account_id,
            name=name,
            email=f"{name.lower()}-{secrets.token_hex(3)}@example.com",
            password_hash="not-a-hash",
            role=role,
            presence=presence,
            department_ids=department_ids,
            created_at=uow.now,
        )
    )
