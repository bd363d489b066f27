"""What the PostgreSQL writer's repositories run their statements through: one transaction's connection,
the group's range of event numbers, and (in pipeline mode) rows held back until they must be written.

Why rows are held back: in a group of units of work, a message costs its conversation's ``UPDATE ...
RETURNING`` (whose answer the unit needs) plus INSERTs of the message and its event (whose answers nobody
reads). Each statement psycopg sends costs the writer thread some 20-30 µs of Python, and the writer is the
one thread every write of the process goes through. So the rows of INSERTs whose keys are already known
(``statements.insert_known``) are kept in memory and written as one multi-row INSERT per table, just before
a statement that names the table, and at the latest before COMMIT.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # psycopg is imported when a PostgreSQL store is opened, not by every CLI command
    import psycopg

_PLACEHOLDER = re.compile(r"\?")
_WORD = re.compile(r"[a-z_]+")


@functools.lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """The repositories write ``?``; psycopg wants ``%s``. Cached: the set of statements is small."""
    return _PLACEHOLDER.sub("%s", sql)


@functools.lru_cache(maxsize=1024)
def _words(sql: str) -> frozenset[str]:
    return frozenset(_WORD.findall(sql.lower()))


@functools.lru_cache(maxsize=256)
def _multi_row_insert(table: str, columns: tuple[str, ...], rows: int) -> str:
    """With PostgreSQL's own ``$n`` placeholders, for a raw cursor: psycopg would parse a statement of
    more than 50 ``%s`` again at every call (it caches only smaller ones)."""
    width = len(columns)
    values = ", ".join(
        "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")"
        for row in range(rows)
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"  # noqa: S608


class SeqRange:
    """The events' sequence numbers one group takes: the counter row read and locked once, numbers handed
    out from memory, the row written back once before the commit."""

    def __init__(self) -> None:
        self.locked = False
        self.stored = 0  # the counter's value when it was locked
        self.last = 0  # the last number handed out

    LOCK = "SELECT value FROM counters WHERE name = 'events' FOR UPDATE"

    def take(self, lock: Callable[[str], Any]) -> int:
        """The next number; the first takes the row's lock through ``lock`` (which runs a statement)."""
        if not self.locked:
            row = lock(self.LOCK).fetchone()
            assert row is not None
            self.stored = self.last = int(row["value"])
            self.locked = True
        self.last += 1
        return self.last

    def mark(self) -> tuple[bool, int, int]:
        return self.locked, self.stored, self.last

    def reset(self, mark: tuple[bool, int, int]) -> None:
        """After a unit is undone: the numbers taken since are given back; a row lock taken since may have
        been released (by a rollback to a savepoint), so the next number reads the row again."""
        self.locked, self.stored, self.last = mark

    def write_back(self, conn: psycopg.Connection[Any]) -> None:
        if self.locked and self.last != self.stored:
            conn.execute("UPDATE counters SET value = %s WHERE name = 'events'", (self.last,))


class PgDb:
    """A transaction's statements, one round trip each (the careful way: every refusal is known at once)."""

    def __init__(self, conn: psycopg.Connection[Any], seqs: SeqRange | None = None) -> None:
        self.conn = conn
        self.seqs = seqs

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(to_pyformat(sql), params)

    def take_seq(self) -> int | None:
        """The next event's number from the group's range (None outside the writer: the caller counts)."""
        return None if self.seqs is None else self.seqs.take(self.conn.execute)

    def last_taken_seq(self) -> int | None:
        """The last number this transaction took and has not yet written back, if any."""
        return self.seqs.last if self.seqs is not None and self.seqs.locked else None


_Key = tuple[str, tuple[str, ...]]  # a held row's table and columns
_Row = tuple[_Key, list[Any]]


class _Pipelined:
    """A cursor whose statement may still be on its way. psycopg fetches a pipelined result when a row is
    asked for, but ``rowcount`` is only an attribute: reading it first brings every answer in."""

    __slots__ = ("cursor", "db", "number")

    def __init__(self, cursor: psycopg.Cursor[Any], db: PipelinedDb, number: int) -> None:
        self.cursor = cursor
        self.db = db
        self.number = number

    @property
    def rowcount(self) -> int:
        self.db.pipeline.sync()
        self.db.answered(self.number)
        return self.cursor.rowcount

    def fetchone(self) -> Any:
        row = self.cursor.fetchone()
        self.db.answered(self.number)
        return row

    def fetchall(self) -> list[Any]:
        rows = self.cursor.fetchall()
        self.db.answered(self.number)
        return rows


class PipelinedDb(PgDb):
    """A group's statements in pipeline mode, each unit under its own savepoint, with rows of known keys
    held back (see the module's notes).

    A unit's savepoint is sent before its first statement (a unit that runs none needs none) and never
    released: the group's units nest, and the COMMIT keeps them all. A database error is the error of the
    unit that was running: every statement a unit sends is answered before the next unit starts (if it read
    no answer after its last statement, :meth:`end_unit` waits for one), so the pipeline carries no
    earlier unit's statement into a later one. Rows held back are written only when a statement names their
    table or at the commit; they are rows no constraint can refuse (a message's id and seq taken under its
    conversation's lock, an event's number under the counter's), so what they risk is the connection.
    """

    def __init__(self, conn: psycopg.Connection[Any], seqs: SeqRange, pipeline: psycopg.Pipeline) -> None:
        super().__init__(conn, seqs)
        self.pipeline = pipeline
        self._held: dict[_Key, list[list[Any]]] = {}
        self._sent = 0  # statements sent in this group
        self._answered = 0  # of which answered (a later one's answer was read)
        self._unit_open = False  # whether the running unit has sent its savepoint
        self._unit_held: list[_Row] = []  # the running unit's rows still held
        self._rehold: list[_Row] = []  # earlier units' rows sent during the running unit

    # -- statements --------------------------------------------------------------------------------------

    def _open_unit(self) -> None:
        """The running unit's savepoint, before its first statement."""
        if not self._unit_open:
            self._unit_open = True
            self._send_raw("SAVEPOINT work")

    def _send(self, sql: str, params: Sequence[Any] = ()) -> _Pipelined:
        self._open_unit()
        return self._send_raw(sql, params)

    def _send_raw(self, sql: str, params: Sequence[Any] = ()) -> _Pipelined:
        self._sent += 1
        return _Pipelined(self.conn.execute(sql, params), self, self._sent)

    def answered(self, number: int) -> None:
        """The answer to statement ``number`` was read, so every statement before it was answered too."""
        if number > self._answered:
            self._answered = number

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._held and not _words(sql).isdisjoint(table for table, _ in self._held):
            self._open_unit()  # the rows are sent under the unit's savepoint (see undo_unit)
            self._write_held()
        return self._send(to_pyformat(sql), params)

    def take_seq(self) -> int | None:
        assert self.seqs is not None
        return self.seqs.take(self._send)  # after the unit's savepoint: the lock may be refused

    def defer_insert(self, table: str, values: dict[str, Any]) -> None:
        key = (table, tuple(values))
        row = list(values.values())
        self._held.setdefault(key, []).append(row)
        self._unit_held.append((key, row))

    def _write_held(self) -> None:
        """Send the held rows, one INSERT per table, in the order the tables were first written to."""
        from psycopg import RawCursor

        mine = {id(row) for _, row in self._unit_held}
        for (table, columns), rows in self._held.items():
            params = [value for row in rows for value in row]
            self._sent += 1
            RawCursor(self.conn).execute(_multi_row_insert(table, columns, len(rows)), params)
            self._rehold.extend(((table, columns), row) for row in rows if id(row) not in mine)
        self._held.clear()
        self._unit_held.clear()

    # -- units -------------------------------------------------------------------------------------------

    def end_unit(self) -> None:
        """The unit went through: wait for the answers it did not read (an error there is still its own)."""
        if self._answered < self._sent:
            self.pipeline.sync()
            self._answered = self._sent
        self._unit_open = False
        self._unit_held.clear()
        self._rehold.clear()

    def undo_unit(self) -> None:
        """The unit failed: roll back to its savepoint, forget its rows, hold again the earlier units' rows
        that were sent during it (the rollback took them back)."""
        if self._unit_open:
            from psycopg import Error

            with contextlib.suppress(Error):  # the refusal, if any, is the unit's error already
                self.pipeline.sync()  # after a refusal the pipeline ignores all until a sync
            self._send_raw("ROLLBACK TO SAVEPOINT work")
            self._answered = self._sent - 1
        for key, row in self._unit_held:
            rows = self._held[key]
            del rows[next(i for i, held in enumerate(rows) if held is row)]
            if not rows:
                del self._held[key]
        for key, row in self._rehold:
            self._held.setdefault(key, []).append(row)
        self._unit_open = False
        self._unit_held.clear()
        self._rehold.clear()

    def finish(self) -> None:
        """Before the COMMIT: the rows still held."""
        if self._held:  # no unit runs: no savepoint to take
            self._write_held()
