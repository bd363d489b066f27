"""Running one statement inside the current transaction: what every repository module builds on.

Statements use ``?`` placeholders; the PostgreSQL connection rewrites them to ``%s``.
"""

from __future__ import annotations

import builtins
import functools
import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol, TypeGuard

from helpline.store.rows import Row


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> builtins.list[Any]: ...


class Db(Protocol):
    """The one thing a repository needs: run a statement inside the current transaction."""

    def execute(self, sql: str, params: Any = (), /) -> Cursor: ...


def is_sqlite(db: Db) -> TypeGuard[sqlite3.Connection]:
    """The one question the shared repositories ask of the backend (where SQLite's rowid can stand in for
    a statement), answered here so that they stay free of either driver."""
    return isinstance(db, sqlite3.Connection)


def set_clause(fields: dict[str, Any]) -> tuple[str, builtins.list[Any]]:
    """``name = ?, ...`` and its values, for an UPDATE of the columns in ``fields``."""
    return ", ".join(f"{name} = ?" for name in fields), list(fields.values())


def one(db: Db, sql: str, params: Sequence[Any] = ()) -> Row | None:
    row: Row | None = db.execute(sql, params).fetchone()
    return row


def every(db: Db, sql: str, params: Sequence[Any] = ()) -> builtins.list[Row]:
    return list(db.execute(sql, params).fetchall())


def marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def insert(db: Db, table: str, values: dict[str, Any], returning: str = "id") -> Any:
    """Insert a row and give back its key (``returning``).

    On SQLite that key is always the table's rowid (every table's key is a single ``INTEGER PRIMARY KEY``,
    which SQLite makes the rowid; tests/store check the schema keeps it so), and the cursor already holds
    it: a ``RETURNING`` clause would make SQLite produce a result row as well, measured at a third of the
    cost of a message's INSERT.
    """
    if isinstance(db, sqlite3.Connection):  # inline: this runs for every INSERT
        return db.execute(_insert_sql(table, tuple(values), None), list(values.values())).lastrowid
    row = one(db, _insert_sql(table, tuple(values), returning), list(values.values()))
    assert row is not None
    return row[returning]


def insert_known(db: Db, table: str, values: dict[str, Any]) -> None:
    """Insert a row whose key the caller already holds: nothing to read back, so PostgreSQL's writer may
    hold the row and write it with others (``store.pg_db.PipelinedDb``)."""
    defer = getattr(db, "defer_insert", None)
    if defer is not None:
        defer(table, values)
    else:
        db.execute(_insert_sql(table, tuple(values), None), list(values.values()))


@functools.lru_cache(maxsize=512)
def _insert_sql(table: str, columns: tuple[str, ...], returning: str | None) -> str:
    """The same few INSERTs run for every message: written once each."""
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks(columns)})"  # noqa: S608
    return f"{sql} RETURNING {returning}" if returning else sql
