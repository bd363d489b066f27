"""Multipart uploads with a cap enforced while the body streams in, and their files handed to the store."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, TypeVar

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from helpline.core.errors import Invalid
from helpline.core.files import Blob, FileStore, FileTooLarge
from helpline.store.base import Store, Work

T = TypeVar("T")

# Room for the multipart framing and the small text fields around the file itself.
FRAMING_ALLOWANCE = 64 * 1024


async def _capped(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise FileTooLarge(limit - FRAMING_ALLOWANCE)
        yield chunk


class _PartCappedParser(MultiPartParser):
    """Starlette's parser caps text fields but spools a file part of any size to disk; this one stops
    at the first file part past ``max_file_bytes``, while the body streams in."""

    def __init__(self, *args: Any, max_file_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_file_bytes = max_file_bytes
        self._file_bytes = 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None:
            self._file_bytes += end - start
            if self._file_bytes > self.max_file_bytes:
                raise FileTooLarge(self.max_file_bytes)
        super().on_part_data(data, start, end)


async def parse_multipart(request: Request, max_file_bytes: int, max_files: int = 10) -> FormData:
    """Parse ``multipart/form-data``; a file over the limit raises FileTooLarge before the rest is read."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("send the file as multipart/form-data")
    limit = max_file_bytes * max_files + FRAMING_ALLOWANCE
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise FileTooLarge(max_file_bytes)
    parser = _PartCappedParser(
        request.headers,
        _capped(request.stream(), limit),
        max_files=max_files,
        max_fields=50,
        max_part_size=1 << 20,
        max_file_bytes=max_file_bytes,
    )
    try:
        return await parser.parse()
    except MultiPartException as bad:
        raise Invalid(f"malformed multipart body: {bad.message}") from None


async def _chunks(upload: UploadFile, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    while chunk := await upload.read(size):
        yield chunk


async def store_upload(files: FileStore, upload: UploadFile, max_bytes: int) -> Blob:
    try:
        return await files.save(_chunks(upload), max_bytes)
    finally:
        await upload.close()


def single_file(form: FormData, field: str) -> UploadFile:
    found = form.getlist(field)
    uploads = [item for item in found if isinstance(item, UploadFile)]
    if not uploads:
        raise Invalid(f"a file is required in the multipart field {field!r}")
    if len(found) > 1:
        raise Invalid(f"send one file in {field!r}, not {len(found)}")
    return uploads[0]


async def write_or_discard(store: Store, files: FileStore, blobs: Sequence[Blob], work: Work[T]) -> T:
    """Run ``work`` (which records ``blobs``, already saved); if it fails, delete them again, so that a
    refused request leaves no file behind that nothing refers to."""
    try:
        return await store.write(work)
    except BaseException:
        for blob in blobs:
            await files.delete(blob.key)
        raise
