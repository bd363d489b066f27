"""Files in the database: the bytes in rows of ``file_chunks`` (256 KiB each), so that every process on
the same database reads what any of them stored, with nothing to share on disk.

Written and read a chunk at a time, each chunk in its own short transaction: an upload never holds a
transaction (or the whole file) while the client sends, and a download never holds one while the client
reads. A file becomes visible only when its ``file_blobs`` row is written, in the transaction of its last
chunk; a refused or broken upload deletes the chunks it wrote. An upload cut short by a crash cannot: its
row in ``file_uploads`` (written with its first chunk, gone with its last) lets ``sweep`` find it.

It runs on whatever store the server runs on (PostgreSQL, and SQLite too: there the chunks join the
writer's group commit). It is given that store rather than importing it: it needs nothing of it but
``write``/``read`` and the transaction's connection (``uow.db``).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from helpline.core.files import Blob, UploadAbandoned
from helpline.files.tally import Tally

T = TypeVar("T")
CHUNK = 256 * 1024


class _Db(Protocol):
    def execute(self, sql: str, params: Any = (), /) -> Any: ...


class _UnitOfWork(Protocol):
    @property
    def db(self) -> _Db: ...

    @property
    def now(self) -> float: ...


class TransactionalStore(Protocol):
    async def write(self, work: Callable[[_UnitOfWork], T]) -> T: ...
    async def read(self, work: Callable[[_UnitOfWork], T]) -> T: ...


def _put_chunk(key: str, seq: int, data: bytes) -> Callable[[_UnitOfWork], None]:
    def work(uow: _UnitOfWork) -> None:
        uow.db.execute("INSERT INTO file_chunks (key, seq, data) VALUES (?, ?, ?)", (key, seq, data))
        # The upload's row, heard of now: what the sweep goes by if this process dies before the end.
        if seq == 0:
            uow.db.execute("INSERT INTO file_uploads (key, heard_at) VALUES (?, ?)", (key, uow.now))
        else:
            _still_going(uow.db.execute("UPDATE file_uploads SET heard_at = ? WHERE key = ?", (uow.now, key)))

    return work


def _finish(key: str, seq: int, data: bytes, size: int, chunks: int) -> Callable[[_UnitOfWork], None]:
    def work(uow: _UnitOfWork) -> None:
        if data:
            uow.db.execute("INSERT INTO file_chunks (key, seq, data) VALUES (?, ?, ?)", (key, seq, data))
        uow.db.execute(
            "INSERT INTO file_blobs (key, size, chunks, created_at) VALUES (?, ?, ?, ?)",
            (key, size, chunks, uow.now),
        )
        if seq > 0:  # chunks were written before this one, with the upload's row: it goes, and must be there
            _still_going(uow.db.execute("DELETE FROM file_uploads WHERE key = ?", (key,)))

    return work


def _still_going(cursor: Any) -> None:
    """The sweep removed this upload's row and chunks while it stalled: finishing it would make a file
    with holes in it."""
    if cursor.rowcount == 0:
        raise UploadAbandoned


def _drop(key: str) -> Callable[[_UnitOfWork], None]:
    def work(uow: _UnitOfWork) -> None:
        uow.db.execute("DELETE FROM file_blobs WHERE key = ?", (key,))
        uow.db.execute("DELETE FROM file_chunks WHERE key = ?", (key,))
        uow.db.execute("DELETE FROM file_uploads WHERE key = ?", (key,))

    return work


SWEEP_BATCH = 100  # uploads per transaction: a sweep after a long outage never holds the writer long


def _sweep_some(quiet_since: float) -> Callable[[_UnitOfWork], int]:
    def work(uow: _UnitOfWork) -> int:
        keys = [
            row["key"]
            for row in uow.db.execute(
                "SELECT key FROM file_uploads WHERE heard_at < ? ORDER BY heard_at LIMIT ?",
                (quiet_since, SWEEP_BATCH),
            ).fetchall()
        ]
        for key in keys:
            _drop(key)(uow)
        return len(keys)

    return work


@dataclass(slots=True, frozen=True)
class DatabaseBlob:
    store: TransactionalStore
    key: str
    size: int
    count: int

    async def chunks(self) -> AsyncIterator[bytes]:
        """One chunk per read; a file deleted meanwhile ends the stream with FileNotFoundError."""
        for seq in range(self.count):
            data = await self.store.read(functools.partial(_chunk, key=self.key, seq=seq))
            if data is None:
                raise FileNotFoundError(f"{self.key} was deleted while it was being read")
            yield data


def _chunk(uow: _UnitOfWork, key: str, seq: int) -> bytes | None:
    row = uow.db.execute("SELECT data FROM file_chunks WHERE key = ? AND seq = ?", (key, seq)).fetchone()
    return None if row is None else bytes(row["data"])


def _found(uow: _UnitOfWork, key: str) -> tuple[int, int] | None:
    row = uow.db.execute("SELECT size, chunks FROM file_blobs WHERE key = ?", (key,)).fetchone()
    return None if row is None else (int(row["size"]), int(row["chunks"]))


class DatabaseFileStore:
    def __init__(self, store: TransactionalStore, chunk_bytes: int = CHUNK) -> None:
        self.store = store
        self.chunk_bytes = chunk_bytes

    async def save(self, chunks: AsyncIterator[bytes], max_bytes: int) -> Blob:
        key = secrets.token_hex(20)
        tally = Tally(max_bytes)
        pending = bytearray()
        written = 0
        try:
            async for chunk in chunks:
                tally.add(chunk)
                pending += chunk
                while len(pending) >= self.chunk_bytes:
                    piece = bytes(pending[: self.chunk_bytes])
                    del pending[: self.chunk_bytes]
                    await self.store.write(_put_chunk(key, written, piece))
                    written += 1
            last = bytes(pending)
            count = written + (1 if last else 0)
            await self.store.write(_finish(key, written, last, tally.size, count))
        except BaseException:
            if written:
                await self.store.write(_drop(key))
            raise
        return tally.blob(key)

    async def open(self, key: str) -> DatabaseBlob | None:
        if not key.isalnum():
            return None
        found = await self.store.read(lambda uow: _found(uow, key))
        return None if found is None else DatabaseBlob(self.store, key, *found)

    async def delete(self, key: str) -> None:
        if key.isalnum():
            await self.store.write(_drop(key))

    async def sweep(self, quiet_since: float) -> int:
        removed = 0
        while True:
            swept = await self.store.write(_sweep_some(quiet_since))
            removed += swept
            if swept < SWEEP_BATCH:
                return removed
