"""The local file store on a real directory: streaming cap, digest, type from content, no partial files."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpline.core.files import FileTooLarge, clean_name, kind_for
from helpline.core.model import MessageKind
from helpline.files.local import LocalFileStore
from helpline.files.sniff import content_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


async def _stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_save_writes_the_bytes_under_a_random_key(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    blob = asyncio.run(store.save(_stream(PNG[:10], PNG[10:]), max_bytes=10_000))
    assert store.path(blob.key).read_bytes() == PNG
    assert blob.size == len(PNG)
    assert blob.sha256 == hashlib.sha256(PNG).hexdigest()
    assert blob.content_type == "image/png"
    other = asyncio.run(store.save(_stream(PNG), max_bytes=10_000))
    assert other.key != blob.key
    assert len(blob.key) == 40


def test_over_the_cap_stops_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(FileTooLarge, match="limit of 100 bytes"):
        asyncio.run(store.save(_stream(b"a" * 60, b"b" * 60, b"c" * 10_000), max_bytes=100))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_delete_and_bad_keys(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    blob = asyncio.run(store.save(_stream(b"hello"), max_bytes=100))
    asyncio.run(store.delete(blob.key))
    assert not store.path(blob.key).exists()
    asyncio.run(store.delete(blob.key))  # deleting twice is fine
    with pytest.raises(ValueError, match="not a file key"):
        store.path("../../etc/passwd")


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
