"""Files on local disk under ``<data dir>/files`` (or ``HELPLINE_FILES_DIR``), named by a random key,
written atomically.

Bytes are counted as they arrive and the write stops at the limit, so an oversized upload never
fills the disk; a partial file is removed. Several processes can share one directory (a network or
shared volume): a file appears under its name only once it is whole (``os.replace``), so any process
that finds the name reads all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from helpline.core.files import Blob, UploadAbandoned
from helpline.files.tally import Tally

CHUNK = 64 * 1024


@dataclass(slots=True, frozen=True)
class LocalBlob:
    path: Path
    size: int

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes off the event loop; exactly ``size`` of them (a file that shrank or vanished
        meanwhile ends the stream with FileNotFoundError rather than a short body)."""
        handle = await asyncio.to_thread(self.path.open, "rb")
        try:
            left = self.size
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
                if not chunk:
                    raise FileNotFoundError(f"{self.path.name} shrank while it was being read")
                left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)


class LocalFileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("not a file key")
        return self.root / key[:2] / key

    async def save(self, chunks: AsyncIterator[bytes], max_bytes: int) -> Blob:
        key = secrets.token_hex(20)
        target = self.path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        tally = Tally(max_bytes)
        handle = await asyncio.to_thread(open, partial, "wb")
        try:
            async for chunk in chunks:
                tally.add(chunk)
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(handle.flush)
            await asyncio.to_thread(os.fsync, handle.fileno())
        except BaseException:
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        handle.close()
        try:
            await asyncio.to_thread(os.replace, partial, target)
        except FileNotFoundError:  # swept while the upload stalled (see sweep)
            raise UploadAbandoned from None
        return tally.blob(key)

    async def open(self, key: str) -> LocalBlob | None:
        try:
            path = self.path(key)
            size = (await asyncio.to_thread(path.stat)).st_size
        except (ValueError, FileNotFoundError, NotADirectoryError):
            return None
        return LocalBlob(path, size)

    async def delete(self, key: str) -> None:
        if not key.isalnum():
            return
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.path(key).unlink)

    async def sweep(self, quiet_since: float) -> int:
        """Remove the ``.part`` files not written to since ``quiet_since`` (their process died mid-upload;
        a live upload writes its file as the bytes come)."""
        return await asyncio.to_thread(self._sweep, quiet_since)

    def _sweep(self, quiet_since: float) -> int:
        removed = 0
        for partial in self.root.glob("*/*.part"):
            with contextlib.suppress(FileNotFoundError):  # finished or swept by another process meanwhile
                if partial.stat().st_mtime < quiet_since:
                    partial.unlink()
                    removed += 1
        return removed
