"""An in-process token bucket per key: limits hold per server process (several processes each allow
as much), which is what one ``helpline serve`` needs to stop a page or a script flooding it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RateLimiter:
    """``per_minute`` actions a minute per key, in bursts of up to ``burst`` (default: a minute's worth)."""

    def __init__(
        self,
        per_minute: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = burst if burst is not None else max(per_minute, 1.0)
        self.clock = clock
        self.max_keys = max_keys
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """0 when the action may go ahead (and it is counted); else the seconds until it may."""
        now = self.clock()
        tokens, when = self.buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - when) * self.rate)
        if tokens >= 1.0:
            if len(self.buckets) >= self.max_keys and key not in self.buckets:
                self._prune(now)
            self.buckets[key] = (tokens - 1.0, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled (they hold nothing a fresh bucket would not)."""
        full = [k for k, (t, w) in self.buckets.items() if t + (now - w) * self.rate >= self.capacity]
        for key in full:
            del self.buckets[key]
        if len(self.buckets) >= self.max_keys:
            self.buckets.clear()
