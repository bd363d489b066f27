import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from helpline.core.files import Blob, StoredBlob
from helpline.jobs.uploads import run_upload_sweeps


class SweepLog:
    """A file store fake that records the cut-offs it was swept with (and fails once if told to)."""

    def __init__(self, fail_first: bool = False) -> None:
        self.cut_offs: list[float] = []
        self.fail_first = fail_first
        self.swept = asyncio.Event()
        self.swept_thrice = asyncio.Event()

    async def save(self, chunks: AsyncIterator[bytes], max_bytes: int) -> Blob:
        raise NotImplementedError

    async def open(self, key: str) -> StoredBlob | None:
        return None

    async def delete(self, key: str) -> None:
        return None

    async def sweep(self, quiet_since: float) -> int:
        self.cut_offs.append(quiet_since)
        self.swept.set()
        if len(self.cut_offs) >= 3:
            self.swept_thrice.set()
        if self.fail_first and len(self.cut_offs) == 1:
            raise OSError("disk went away")
        return 2


def test_the_sweep_runs_at_start_and_then_every_period_with_the_cut_off_behind_the_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def go() -> list[float]:
        files = SweepLog(fail_first=True)
        stop = asyncio.Event()
        now = iter(range(1_000_000, 2_000_000, 100))
        task = asyncio.create_task(
            run_upload_sweeps(files, stop, clock=lambda: float(next(now)), every=0.01, quiet_for=3600)
        )
        await asyncio.wait_for(files.swept_thrice.wait(), 5)
        stop.set()
        await asyncio.wait_for(task, 1)
        return files.cut_offs

    with caplog.at_level(logging.INFO, logger="helpline.jobs.uploads"):
        cut_offs = asyncio.run(go())
    assert cut_offs[:3] == [1_000_000 - 3600, 1_000_100 - 3600, 1_000_200 - 3600]
    assert "sweeping uploads cut short failed" in caplog.text  # the first one failed; the rest went on
    assert "removed 2 upload(s) cut short" in caplog.text


def test_a_stop_ends_the_wait_at_once() -> None:
    async def go() -> None:
        files = SweepLog()
        stop = asyncio.Event()
        task = asyncio.create_task(run_upload_sweeps(files, stop, every=3600))
        await files.swept.wait()
        stop.set()
        await asyncio.wait_for(task, 1)

    asyncio.run(go())
