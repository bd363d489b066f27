"""Bodies other than JSON: URL-encoded form fields, and ``multipart/form-data`` carrying a stored file.

A multipart body is streamed twice on each attempt (once through the signature, once onto the wire)
and never held in memory whole; its boundary is random per attempt, and each attempt is signed afresh.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from helpline.core.files import StoredBlob
from helpline.outbound.model import DeliveryFile


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
    """``multipart/form-data``: the text fields, then the file part whose bytes stream from the file store."""

    boundary: str
    head: bytes
    tail: bytes
    file: StoredBlob
    name: str

    @classmethod
    def build(cls, fields: Mapping[str, str], file: DeliveryFile, stored: StoredBlob | None) -> MultipartBody:
        """Raises :class:`FileGone` when the file is missing (``stored`` is None)."""
        if stored is None:
            raise FileGone(f"the file {file.name!r} ({file.key}) is no longer in the file store")
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
        return cls(boundary, b"".join(parts), f"\r\n--{boundary}--\r\n".encode(), stored, file.name)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return len(self.head) + self.file.size + len(self.tail)

    async def stream(self) -> AsyncIterator[bytes]:
        """The whole body, the file read afresh from the store (once for the signature, once for the
        wire); exactly ``length`` bytes, or FileGone."""
        yield self.head
        left = self.file.size
        try:
            async for chunk in self.file.chunks():
                left -= len(chunk)
                if left < 0:
                    break
                yield chunk
        except FileNotFoundError:
            raise FileGone(f"the file {self.name!r} is no longer in the file store") from None
        if left != 0:
            raise FileGone(f"the file {self.name!r} changed size while it was being sent")
        yield self.tail
