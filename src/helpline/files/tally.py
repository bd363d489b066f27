"""What every file store does to the bytes as they arrive: count them against the cap, hash them, and keep
the first few to read the type from. Shared so that both stores answer the same ``Blob`` for the same bytes."""

from __future__ import annotations

import hashlib

from helpline.core.files import Blob, FileTooLarge
from helpline.files.sniff import HEAD_BYTES, content_type


class Tally:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._head = b""

    def add(self, chunk: bytes) -> None:
        """Raises FileTooLarge as soon as the bytes so far pass the cap."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise FileTooLarge(self.max_bytes)
        self._digest.update(chunk)
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]

    def blob(self, key: str) -> Blob:
        return Blob(
            key=key, size=self.size, sha256=self._digest.hexdigest(), content_type=content_type(self._head)
        )
