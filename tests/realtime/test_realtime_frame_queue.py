"""The per-socket frame queue: order, the socket told of every frame, the overflow that closes a slow
socket, and the close that ends its writing."""

from __future__ import annotations

import pytest

from helpline.realtime.hub import FrameQueue, Overflowed


def _told(queue: FrameQueue[str]) -> list[int]:
    """How many frames the queue held each time it told its socket."""
    told: list[int] = []
    queue.on_ready = lambda: told.append(len(queue))
    return told


def test_a_writer_takes_every_frame_queued_since_it_last_took_in_order() -> None:
    queue: FrameQueue[str] = FrameQueue()
    queue.put(1, "a")
    queue.put(2, "b")
    assert queue.take_nowait() == [(1, "a"), (2, "b")]
    assert len(queue) == 0
    assert queue.take_nowait() == []


def test_the_socket_is_told_when_a_frame_arrives() -> None:
    queue: FrameQueue[str] = FrameQueue()
    told = _told(queue)
    queue.put(7, "x")
    queue.put(8, "y")
    assert told == [1, 2]
    assert queue.take_nowait() == [(7, "x"), (8, "y")]


def test_past_the_limit_the_frames_are_dropped_and_the_writer_told_to_close() -> None:
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
        queue.take_nowait()


def test_an_overflow_tells_the_socket() -> None:
    queue: FrameQueue[str] = FrameQueue(limit=0)
    told = _told(queue)
    queue.put(1, "a")
    assert told == [0]
    with pytest.raises(Overflowed):
        queue.take_nowait()


def test_closing_tells_the_socket_gives_it_nothing_and_later_frames_are_ignored() -> None:
    queue: FrameQueue[str] = FrameQueue()
    queue.put(1, "early")
    told = _told(queue)
    queue.close()
    assert told == [0]
    assert queue.take_nowait() == []
    queue.put(2, "late")
    assert told == [0]
    assert queue.take_nowait() == []


def test_frames_given_back_go_in_front_of_those_queued_since() -> None:
    queue: FrameQueue[str] = FrameQueue()
    queue.put(1, "a")
    queue.put(2, "b")
    taken = queue.take_nowait()
    queue.put(3, "c")
    queue.give_back(taken[1:])
    assert queue.take_nowait() == [(2, "b"), (3, "c")]
