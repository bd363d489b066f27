"""Every file store, on a real directory or a real database: streaming cap, digest, type from content,
reading back in order, no partial files, keys that are not keys."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpline.core.files import FileStore, FileTooLarge, UploadAbandoned, clean_name, kind_for
from helpline.core.model import MessageKind
from helpline.files.database import DatabaseFileStore
from helpline.files.local import LocalFileStore
from helpline.files.sniff import content_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


async def _stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _read(store: FileStore, key: str) -> bytes | None:
    stored = await store.open(key)
    if stored is None:
        return None
    data = b"".join([chunk async for chunk in stored.chunks()])
    assert len(data) == stored.size
    return data


def _leftovers(store: FileStore) -> list[object]:
    """What a store holds on disk or in its tables (for: nothing left behind)."""
    return asyncio.run(_held(store))


async def _held(store: FileStore) -> list[object]:
    if isinstance(store, LocalFileStore):
        return [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []
    assert isinstance(store, DatabaseFileStore)
    return await store.store.read(
        lambda uow: uow.db.execute(
            "SELECT key FROM file_chunks UNION ALL SELECT key FROM file_blobs UNION ALL SELECT key FROM file_uploads"
        ).fetchall()
    )


def test_save_writes_the_bytes_under_a_random_key(file_store: FileStore) -> None:
    blob = asyncio.run(file_store.save(_stream(PNG[:10], PNG[10:]), max_bytes=10_000))
    assert asyncio.run(_read(file_store, blob.key)) == PNG
    assert blob.size == len(PNG)
    assert blob.sha256 == hashlib.sha256(PNG).hexdigest()
    assert blob.content_type == "image/png"
    other = asyncio.run(file_store.save(_stream(PNG), max_bytes=10_000))
    assert other.key != blob.key
    assert len(blob.key) == 40
    assert blob.key.isalnum()


def test_a_file_of_many_chunks_reads_back_whole_and_in_order(file_store: FileStore) -> None:
    data = os.urandom(200_003)
    pieces = [data[i : i + 7_001] for i in range(0, len(data), 7_001)]
    blob = asyncio.run(file_store.save(_stream(*pieces), max_bytes=len(data)))
    assert blob.size == len(data)
    assert asyncio.run(_read(file_store, blob.key)) == data
    # Read twice (a multipart delivery streams once for the signature, once for the wire).
    assert asyncio.run(_read(file_store, blob.key)) == data
    empty = asyncio.run(file_store.save(_stream(), max_bytes=10))
    assert (empty.size, empty.content_type) == (0, "application/octet-stream")
    assert asyncio.run(_read(file_store, empty.key)) == b""


def test_over_the_cap_stops_and_leaves_nothing(file_store: FileStore) -> None:
    with pytest.raises(FileTooLarge, match="limit of 100 bytes"):
        asyncio.run(file_store.save(_stream(b"a" * 60, b"b" * 60, b"c" * 10_000), max_bytes=100))
    # Past several chunks already written before the cap is reached:
    with pytest.raises(FileTooLarge, match="limit of 5000 bytes"):
        asyncio.run(file_store.save(_stream(*[b"x" * 999] * 10), max_bytes=5000))
    assert _leftovers(file_store) == []


def test_a_broken_upload_leaves_nothing(file_store: FileStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"y" * 3000
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        asyncio.run(file_store.save(broken(), max_bytes=10_000))
    assert _leftovers(file_store) == []


def test_an_upload_cut_short_is_swept_once_quiet_and_one_still_sending_is_kept(file_store: FileStore) -> None:
    """A process killed mid-upload leaves a partial file no request will ever finish or delete; the sweep
    removes it once nothing has been added to it for a while (here: the cut-off is put past now)."""

    async def go() -> None:
        finished = await file_store.save(_stream(PNG), max_bytes=10_000)
        kept = len(await _held(file_store))  # the finished file's file, or its chunk and its row
        resume = asyncio.Event()

        async def stalling() -> AsyncIterator[bytes]:
            yield b"a" * 2_500  # past two database chunks (chunk_bytes=1000 here), and a partial file
            await resume.wait()
            yield b"b" * 10

        saving = asyncio.create_task(file_store.save(stalling(), max_bytes=10_000))
        # What the stalled upload holds: its partial file, or its two chunks and its upload row.
        partial = 1 if isinstance(file_store, LocalFileStore) else 3
        for _ in range(500):
            if len(await _held(file_store)) == kept + partial:
                break
            await asyncio.sleep(0.01)
        assert await file_store.sweep(time.time() - 3600) == 0  # heard from within the hour: kept
        assert len(await _held(file_store)) == kept + partial
        assert await file_store.sweep(time.time() + 1) == 1  # quiet since before the cut-off: removed
        assert len(await _held(file_store)) == kept  # the finished file alone
        assert await _read(file_store, finished.key) == PNG
        assert await file_store.sweep(time.time() + 1) == 0

        # The stalled client sends again: its file would have holes, so it is refused, and nothing stays.
        resume.set()
        with pytest.raises(UploadAbandoned, match="send the file again"):
            await saving
        assert len(await _held(file_store)) == kept

    asyncio.run(go())


def test_delete_and_bad_keys(file_store: FileStore) -> None:
    blob = asyncio.run(file_store.save(_stream(b"hello"), max_bytes=100))
    asyncio.run(file_store.delete(blob.key))
    assert asyncio.run(file_store.open(blob.key)) is None
    asyncio.run(file_store.delete(blob.key))  # deleting twice is fine
    assert asyncio.run(file_store.open("../../etc/passwd")) is None
    assert asyncio.run(file_store.open("ab" * 20)) is None
    asyncio.run(file_store.delete("../../etc/passwd"))  # not a key: nothing to delete, nothing deleted
    assert _leftovers(file_store) == []


def test_the_local_store_refuses_paths_that_are_not_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a file key"):
        LocalFileStore(tmp_path).path("../../etc/passwd")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"%PDF-1.7\n" + bytes(50), "application/pdf"),
        (b"GIF89a" + bytes(50), "image/gif"),
        ("plain text, ação".encode(), "text/plain"),
        (bytes(range(256)) * 4, "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_type_comes_from_the_content(head: bytes, expected: str) -> None:
    assert content_type(head) == expected


def test_kinds_and_names() -> None:
    assert kind_for("image/png") is MessageKind.IMAGE
    assert kind_for("audio/ogg") is MessageKind.AUDIO
    assert kind_for("video/mp4") is MessageKind.VIDEO
    assert kind_for("application/pdf") is MessageKind.FILE
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\x\\photo.png") == "photo.png"
    assert clean_name("") == "file"
    assert clean_name("evil\x00name\n.txt") == "evilname.txt"
