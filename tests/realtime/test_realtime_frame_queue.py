"""The per-socket frame queue: order, one wake-up per burst, the overflow that closes a slow socket, and
the close that ends its writer. (No async test plugin here: each test runs its body with asyncio.run.)"""

from __future__ import annotations

import asyncio

import pytest

from helpline.realtime.hub import FrameQueue, Overflowed


def test_a_writer_takes_every_frame_queued_since_it_last_took_in_order() -> None:
    asyncio.run(_a_writer_takes_every_frame_queued_since_it_last_took_in_order())


async def _a_writer_takes_every_frame_queued_since_it_last_took_in_order() -> None:
    queue: FrameQueue[str] = FrameQueue()
    queue.put(1, "a")
    queue.put(2, "b")
    assert await queue.take() == [(1, "a"), (2, "b")]
    assert len(queue) == 0


def test_a_waiting_writer_wakes_when_a_frame_arrives() -> None:
    asyncio.run(_a_waiting_writer_wakes_when_a_frame_arrives())


async def _a_waiting_writer_wakes_when_a_frame_arrives() -> None:
    queue: FrameQueue[str] = FrameQueue()
    taking = asyncio.ensure_future(queue.take())
    await asyncio.sleep(0)
    assert not taking.done()
    queue.put(7, "x")
    queue.put(8, "y")
    assert await asyncio.wait_for(taking, 1) == [(7, "x"), (8, "y")]


def test_past_the_limit_the_frames_are_dropped_and_the_writer_told_to_close() -> None:
    asyncio.run(_past_the_limit_the_frames_are_dropped_and_the_writer_told_to_close())


async def _past_the_limit_the_frames_are_dropped_and_the_writer_told_to_close() -> None:
    queue: FrameQueue[str] = FrameQueue(limit=3)
    for seq in range(1, 4):
        queue.put(seq, f"f{seq}")
    assert not queue.overflowed
    queue.put(4, "f4")
    assert queue.overflowed
    assert len(queue) == 0
    queue.put(5, "f5")  # nothing more is queued for a socket that is being closed
    assert len(queue) == 0
    with pytest.raises(Overflowed):
        await queue.take()


def test_an_overflow_wakes_a_waiting_writer() -> None:
    asyncio.run(_an_overflow_wakes_a_waiting_writer())


async def _an_overflow_wakes_a_waiting_writer() -> None:
    queue: FrameQueue[str] = FrameQueue(limit=0)
    taking = asyncio.ensure_future(queue.take())
    await asyncio.sleep(0)
    queue.put(1, "a")
    with pytest.raises(Overflowed):
        await asyncio.wait_for(taking, 1)


def test_closing_gives_a_waiting_writer_nothing_and_later_frames_are_ignored() -> None:
    asyncio.run(_closing_gives_a_waiting_writer_nothing_and_later_frames_are_ignored())


async def _closing_gives_a_waiting_writer_nothing_and_later_frames_are_ignored() -> None:
    queue: FrameQueue[str] = FrameQueue()
    taking = asyncio.ensure_future(queue.take())
    await asyncio.sleep(0)
    queue.close()
    assert await asyncio.wait_for(taking, 1) == []
    queue.put(1, "late")
    assert await queue.take() == []
