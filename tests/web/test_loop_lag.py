"""The loop-lag profiler: a callback that blocks the loop shows as a stall, with its stack in the samples."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from pathlib import Path

import pytest

from helpline.web import loop_lag


def blocking_callback() -> None:
    time.sleep(0.06)  # the loop can run nothing else meanwhile


async def profile_a_blocked_loop(path: Path) -> None:
    profiler = loop_lag.LoopLagProfiler(str(path), threshold_ms=5.0)
    profiler.start(asyncio.get_running_loop())
    await asyncio.sleep(0.02)
    blocking_callback()
    gc.collect()
    await asyncio.sleep(0.02)
    profiler.stop()


def test_a_blocked_loop_is_a_stall_with_the_blocking_stack(tmp_path: Path) -> None:
    path = tmp_path / "lag.json"
    asyncio.run(profile_a_blocked_loop(path))
    profile = json.loads(path.read_text())
    assert profile["stall_count"] >= 1
    longest = max(profile["stalls"], key=lambda stall: stall["ms"])
    assert longest["ms"] >= 50  # at least the sleep (a busy machine only makes it longer)
    stacks = [profile["stacks"][ident] for ident in longest["samples"]]
    assert any("blocking_callback" in frame for stack in stacks for frame in stack)
    assert profile["gc"]["2"]["count"] >= 1  # the collection forced above was timed
    assert any(found["generation"] == 2 for found in profile["collections"])


def test_the_profiler_is_off_unless_a_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loop_lag.ENV_PATH, raising=False)
    assert loop_lag.from_environment() is None
    monkeypatch.setenv(loop_lag.ENV_PATH, "/tmp/x.json")
    monkeypatch.setenv(loop_lag.ENV_THRESHOLD, "3")
    profiler = loop_lag.from_environment()
    assert profiler is not None
    assert profiler.threshold == pytest.approx(0.003)
