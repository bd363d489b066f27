"""How an agent socket writes the hub's frames: at once while nothing is being written, through its pump
(a task) once the transport pauses, never out of order and never twice."""

from __future__ import annotations

import asyncio
from typing import Any

from helpline.agent_api.socket import _Live
from helpline.realtime.hub import Subscriber


def _socket(accept_now: int) -> tuple[_Live, list[str], list[str]]:
    """A live socket whose transport takes ``accept_now`` frames at once and then pauses."""
    at_once: list[str] = []
    through_send: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        through_send.append(message["text"])

    def send_now(text: str) -> bool:
        if len(at_once) >= accept_now:
            return False
        at_once.append(text)
        return True

    subscriber = Subscriber(account_id=1, agent_id=1, department_ids=frozenset({1}), is_admin=False)
    live = _Live(send, subscriber, last_sent=2)
    live.send_now = send_now
    subscriber.queue.on_ready = live.ready
    return live, at_once, through_send


def test_frames_go_out_at_once_in_order_skipping_what_the_backlog_sent() -> None:
    async def scenario() -> None:
        live, at_once, through_send = _socket(accept_now=100)
        queue = live.subscriber.queue
        for seq in (2, 3, 4):  # 2 went out with the backlog already
            queue.put(seq, f"frame {seq}")
        assert at_once == ["frame 3", "frame 4"]
        assert not live.writer.busy  # no task was needed
        assert live.last_sent == 4
        assert through_send == []

    asyncio.run(scenario())


def test_once_the_transport_pauses_the_pump_writes_the_rest_in_order() -> None:
    async def scenario() -> None:
        live, at_once, through_send = _socket(accept_now=1)
        queue = live.subscriber.queue
        queue.on_ready = None  # queue two frames before the socket hears of them
        queue.put(3, "frame 3")
        queue.put(4, "frame 4")
        queue.on_ready = live.ready
        live.ready()
        assert at_once == ["frame 3"]
        assert live.writer.busy  # the pump took over: frame 4 was given back to it
        queue.put(5, "frame 5")  # while it runs, new frames wait for it, not for a direct write
        assert at_once == ["frame 3"]
        await asyncio.sleep(0.01)
        assert through_send == ["frame 4", "frame 5"]
        assert not live.writer.busy
        assert live.last_sent == 5

    asyncio.run(scenario())


def test_a_transport_that_fails_a_direct_write_leaves_the_frame_to_the_pump() -> None:
    """The direct write runs inside the hub's dispatch to every socket: its failure must not escape."""

    async def scenario() -> None:
        live, _at_once, through_send = _socket(accept_now=100)

        def broken(text: str) -> bool:
            raise ConnectionResetError("gone")

        live.send_now = broken
        live.subscriber.queue.put(3, "frame 3")  # no exception reaches the caller (the hub)
        await asyncio.sleep(0.01)
        assert through_send == ["frame 3"]

    asyncio.run(scenario())
