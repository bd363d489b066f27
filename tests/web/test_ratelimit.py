"""The in-process token bucket behind the SDK's rate limits, on a clock the test moves."""

from __future__ import annotations

from helpline.web.ratelimit import RateLimiter


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait_and_refills() -> None:
    now = [100.0]
    limiter = RateLimiter(per_minute=6, clock=lambda: now[0])  # one every 10 s, bursts of 6
    assert [limiter.take("a") for _ in range(6)] == [0.0] * 6
    assert limiter.take("a") == 10.0
    assert limiter.take("b") == 0.0  # keys are separate
    now[0] += 10.0
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0


def test_full_buckets_are_forgotten_when_too_many_keys_are_held() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, clock=lambda: now[0], max_keys=3)
    for key in "abc":
        limiter.take(key)
    now[0] += 120.0
    limiter.take("d")
    assert set(limiter.buckets) == {"d"}
