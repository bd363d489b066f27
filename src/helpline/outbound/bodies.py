"""Bodies other than JSON: URL-encoded form fields, and ``multipart/form-data`` carrying a stored file.

A multipart body is streamed twice on each attempt (once through the signature, once onto the wire)
and never held in memory whole; its boundary is random per attempt, and each attempt is signed afresh.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from helpline.outbound.model import DeliveryFile

CHUNK = 64 * 1024


def form_body(fields: Mapping[str, str]) -> str:
    """``application/x-www-form-urlencoded`` text of ``fields``, in their order."""
    return urlencode(list(fields.items()))


def multipart_fields(fields: Mapping[str, str]) -> str:
    """How a multipart delivery keeps its text fields in the delivery log: a JSON object."""
    return json.dumps(dict(fields), separators=(",", ":"), ensure_ascii=False)


def _quoted(value: str) -> str:
    """A name or filename inside ``Content-Disposition``, escaped as browsers do (HTML's form encoding)."""
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


class FileGone(Exception):
    """The stored file a delivery sends is no longer in the file store: retrying will not help."""


@dataclass(slots=True, frozen=True)
class MultipartBody:
    """``multipart/form-data``: the text fields, then the file part whose bytes stream from ``path``."""

    boundary: str
    head: bytes
    tail: bytes
    path: Path
    size: int

    @classmethod
    def build(cls, fields: Mapping[str, str], file: DeliveryFile, path: Path) -> MultipartBody:
        """Raises :class:`FileGone` when the file is missing."""
        try:
            size = path.stat().st_size
        except (FileNotFoundError, ValueError):
            raise FileGone(f"the file {file.name!r} ({file.key}) is no longer in the file store") from None
        boundary = "helpline-" + secrets.token_hex(16)
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode()
                + value.encode("utf-8")
                + b"\r\n"
            )
        parts.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quoted(file.field)}"; filename="{_quoted(file.name)}"\r\n'
                f"Content-Type: {file.content_type}\r\n\r\n"
            ).encode()
        )
        return cls(boundary, b"".join(parts), f"\r\n--{boundary}--\r\n".encode(), path, size)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def chunks(self) -> Iterator[bytes]:
        """The whole body, blocking reads (for a thread); the file must still be ``size`` bytes long."""
        yield self.head
        with self.path.open("rb") as handle:
            yield from self._file_chunks(handle.read)
        yield self.tail

    async def stream(self) -> AsyncIterator[bytes]:
        """The whole body for the wire, reading the file off the event loop."""
        yield self.head
        handle = await asyncio.to_thread(self.path.open, "rb")
        try:
            left = self.size
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
                if not chunk:
                    raise FileGone(f"{self.path.name} shrank while it was being sent")
                left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)
        yield self.tail

    def _file_chunks(self, read: Callable[[int], bytes]) -> Iterator[bytes]:
        left = self.size
        while left > 0:
            chunk = read(min(CHUNK, left))
            if not chunk:
                raise FileGone(f"{self.path.name} shrank while it was being signed")
            left -= len(chunk)
            yield chunk
