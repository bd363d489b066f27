"""Active API tokens remembered by hash for a second, for every store in this process.

Every request of the customer-facing APIs presents a token, so ``Tokens.by_hash`` asks here first. A
revocation in this process forgets them at once; one made by another process (the CLI, another server)
takes effect within ``TOKEN_CACHE_SECONDS``. It is process-wide, not per store, because a revocation
through one store object must reach the others in the same process (the CLI and a server in tests).
"""

from __future__ import annotations

import time

from helpline.core.model import ApiToken

TOKEN_CACHE_SECONDS = 1.0


class TokenCache:
    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._active: dict[str, tuple[float, ApiToken]] = {}

    def get(self, token_hash: str) -> ApiToken | None:
        remembered = self._active.get(token_hash)
        if remembered is not None and remembered[0] > time.monotonic():
            return remembered[1]
        return None

    def remember(self, token_hash: str, token: ApiToken | None) -> None:
        """Keep ``token`` if it is active, else forget whatever was kept under this hash."""
        if token is not None and token.active:
            self._active[token_hash] = (time.monotonic() + self.seconds, token)
        else:
            self._active.pop(token_hash, None)

    def clear(self) -> None:
        self._active.clear()


ACTIVE_TOKENS = TokenCache()
