"""The pieces that keep an idle websocket small: the protocol's light queue and write gate, the writer task
that exists only while there is something to write, and a real server's socket that has let go of its
handshake. (No async test plugin: asyncio.run per test.)"""

from __future__ import annotations

import asyncio
import gc
import json

from helpline_testing import RunningServer
from websockets.sync.client import connect

from helpline.realtime.hub import FrameQueue, Overflowed
from helpline.web.sockets import SocketWriter
from helpline.web.websocket import LeanWebSocketProtocol, _Gate, _Inbox


def test_the_inbox_hands_out_messages_in_order_and_wakes_a_waiting_reader() -> None:
    async def scenario() -> None:
        inbox = _Inbox()
        inbox.put_nowait({"n": 1})
        assert not inbox.empty()
        assert await inbox.get() == {"n": 1}
        assert inbox.empty()
        waiting = asyncio.ensure_future(inbox.get())
        await asyncio.sleep(0)
        assert not waiting.done()
        inbox.put_nowait({"n": 2})
        inbox.put_nowait({"n": 3})
        assert await waiting == {"n": 2}
        assert await inbox.get() == {"n": 3}

    asyncio.run(scenario())


def test_a_reader_cancelled_while_waiting_leaves_the_inbox_usable() -> None:
    async def scenario() -> None:
        inbox = _Inbox()
        waiting = asyncio.ensure_future(inbox.get())
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.sleep(0)
        inbox.put_nowait("later")
        assert await inbox.get() == "later"

    asyncio.run(scenario())


def test_the_gate_holds_every_writer_while_writing_is_paused() -> None:
    async def scenario() -> None:
        gate = _Gate()
        await gate.wait()  # open: no wait
        gate.clear()
        first, second = asyncio.ensure_future(gate.wait()), asyncio.ensure_future(gate.wait())
        await asyncio.sleep(0)
        assert not first.done()
        assert not second.done()
        gate.set()
        await asyncio.gather(first, second)
        assert gate.is_set()

    asyncio.run(scenario())


def test_a_frame_queue_tells_its_socket_instead_of_waking_a_task() -> None:
    told: list[int] = []
    queue: FrameQueue[str] = FrameQueue(limit=2)
    queue.on_ready = lambda: told.append(len(queue))
    assert queue.take_nowait() == []
    queue.put(1, "a")
    queue.put(2, "b")
    assert told == [1, 2]
    assert queue.take_nowait() == [(1, "a"), (2, "b")]
    queue.put(3, "c")
    queue.put(4, "d")
    queue.put(5, "e")  # past the limit: dropped, and the socket is told to close
    try:
        queue.take_nowait()
    except Overflowed:
        pass
    else:
        raise AssertionError("an overflowed queue must say so")


def test_the_writer_runs_one_task_while_there_is_work_and_none_after() -> None:
    async def scenario() -> None:
        written: list[str] = []
        waiting = ["a", "b"]
        release = asyncio.Event()

        async def pump() -> None:
            while waiting:
                text = waiting.pop(0)
                await release.wait()
                written.append(text)

        writer = SocketWriter(pump)
        writer.kick()
        first = writer._task
        writer.kick()  # already writing: the running pump will see the new work
        assert writer._task is first
        waiting.append("c")
        release.set()
        assert first is not None
        await first
        assert written == ["a", "b", "c"]
        assert writer._task is None  # idle: no task
        waiting.append("d")
        writer.kick()  # new work: a new task
        second = writer._task
        assert second is not None
        await second
        assert written == ["a", "b", "c", "d"]

    asyncio.run(scenario())


def test_a_writer_stopped_while_blocked_ends() -> None:
    async def scenario() -> None:
        async def pump() -> None:
            await asyncio.Event().wait()  # a transport that never drains

        writer = SocketWriter(pump)
        writer.kick()
        await asyncio.sleep(0)
        await writer.stop()
        assert writer._task is None

    asyncio.run(scenario())


def test_an_open_socket_has_let_go_of_its_handshake_and_still_answers(server: RunningServer) -> None:
    setup = server.setup_account()
    url = f"{server.ws_url}/api/agent/v1/ws?api_key={setup['api_key']}"
    with connect(url, max_size=None) as socket:
        assert json.loads(socket.recv(timeout=5))["event"] == "ready"
        open_ = [o for o in gc.get_objects() if isinstance(o, LeanWebSocketProtocol) and not o.disconnected]
        assert len(open_) == 1
        protocol = open_[0]
        assert protocol.request is None
        assert protocol.response is None
        assert protocol.scope["headers"] == []  # the agent socket read what it needed before the accept
        ping = json.dumps({"event": "ping", "pad": "x" * 65536})
        for _ in range(50):
            socket.send(ping)
        assert [socket.recv(timeout=10) for _ in range(50)] == ['{"event":"pong"}'] * 50
