"""Files in conversations: the blob store port and how an uploaded file becomes a message.

The bytes are written to the file store first (streamed, size-capped, typed by their content); only
then does one unit of work record the file and the message that carries it, so a refused upload leaves
no row behind and a failed unit of work leaves only a blob the caller deletes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from helpline.core.errors import DomainError
from helpline.core.model import Actor, Conversation, MessageKind, StoredFile
from helpline.core.ports import UnitOfWork


@dataclass(slots=True, frozen=True)
class Blob:
    """What the file store wrote: where, how big, its digest, and the type read from its first bytes."""

    key: str
    size: int
    sha256: str
    content_type: str


class FileTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit} bytes")
        self.limit = limit


class UploadAbandoned(DomainError):
    """The upload sent nothing for so long that the file store's sweep took it for one cut short by a
    crash and removed what it had received."""

    status = 408

    def __init__(self) -> None:
        super().__init__("the upload stalled for too long and was given up: send the file again")


class StoredBlob(Protocol):
    """A saved file, to read: its size, and its bytes in chunks (as often as asked, each time afresh)."""

    @property
    def size(self) -> int: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


class FileStore(Protocol):
    """Where the bytes of uploaded files live: a directory (shared by the processes) or the database.

    ``save`` streams, caps and types; ``open`` answers None for a key it does not hold (or that is not a
    key at all); ``delete`` of a missing key is not an error. ``sweep`` removes what uploads cut short
    by a crash left behind (a refused or broken upload cleans up after itself; a killed process cannot)
    when nothing was added to them after ``quiet_since`` (Unix time), and says how many it removed."""

    async def save(self, chunks: AsyncIterator[bytes], max_bytes: int) -> Blob: ...
    async def open(self, key: str) -> StoredBlob | None: ...
    async def delete(self, key: str) -> None: ...
    async def sweep(self, quiet_since: float) -> int: ...


_FAMILIES = {"image": MessageKind.IMAGE, "video": MessageKind.VIDEO, "audio": MessageKind.AUDIO}


def kind_for(content_type: str) -> MessageKind:
    return _FAMILIES.get(content_type.split("/", 1)[0], MessageKind.FILE)


def clean_name(name: str | None) -> str:
    """Keep a name to show and offer on download, never to store under: no path, no control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().strip(".")
    return base[:200] or "file"


def public_path(file: StoredFile) -> str:
    return f"/files/{file.key}/{quote(file.original_name)}"


def record_file(
    uow: UnitOfWork, conversation: Conversation, blob: Blob, original_name: str | None, actor: Actor
) -> StoredFile:
    return uow.files.add(
        StoredFile(
            id=0,
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            key=blob.key,
            original_name=clean_name(original_name),
            content_type=blob.content_type,
            size=blob.size,
            sha256=blob.sha256,
            uploaded_by=actor,
            created_at=uow.now,
        )
    )
