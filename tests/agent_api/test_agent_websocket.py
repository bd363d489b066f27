"""The agent websocket's costs and limits: no per-socket compression, a socket the client closes leaves the
hub at once (not when the next frame for it fails), and one that falls too far behind is closed and
resumes where it was."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections.abc import Callable

import pytest
from helpline_testing import RunningServer
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from helpline.realtime import hub as hub_module
from helpline.realtime.hub import Subscriber
from helpline.web.websocket import LeanWebSocketProtocol


def on_server_loop(loop: asyncio.AbstractEventLoop, call: Callable[[], object]) -> None:
    """Run ``call`` on the test server's loop (its own thread) and wait for it."""
    done = threading.Event()

    def run() -> None:
        call()
        done.set()

    loop.call_soon_threadsafe(run)
    assert done.wait(5)


def _wait_for(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_permessage_deflate_is_not_granted_to_a_client_that_offers_it(server: RunningServer) -> None:
    setup = server.setup_account()
    url = f"{server.ws_url}/api/agent/v1/ws?api_key={setup['api_key']}"
    with connect(url, compression="deflate") as socket:  # what browsers offer
        assert json.loads(socket.recv(timeout=5))["event"] == "ready"
        assert socket.request is not None
        assert "permessage-deflate" in (socket.request.headers.get("Sec-WebSocket-Extensions") or "")
        assert socket.response is not None
        assert socket.response.headers.get("Sec-WebSocket-Extensions") is None


def test_a_socket_the_client_closes_leaves_the_hub(server: RunningServer) -> None:
    setup = server.setup_account()
    hub = server.services.hub
    url = f"{server.ws_url}/api/agent/v1/ws?api_key={setup['api_key']}"
    before = hub.subscriber_count
    with connect(url) as first, connect(url) as second:
        for socket in (first, second):
            assert json.loads(socket.recv(timeout=5))["event"] == "ready"
        assert hub.subscriber_count == before + 2
        first.close()
        assert _wait_for(lambda: hub.subscriber_count == before + 1)
        # The other socket still gets its frames.
        started = server.client.post(
            "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
        )
        assert started.status_code == 200
        frame = json.loads(second.recv(timeout=5))
        assert frame["event"] == "conversation.started"
    assert _wait_for(lambda: hub.subscriber_count == before)


def test_a_socket_that_falls_behind_is_closed_with_4008_and_resumes_from_its_last_seq(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversation's start is two events in one commit: with room for one frame queued while the
    socket's transport has paused writing (its client reads too slowly), the socket overflows."""
    monkeypatch.setattr(hub_module, "QUEUE_LIMIT", 1)
    setup = server.setup_account()
    url = f"{server.ws_url}/api/agent/v1/ws?api_key={setup['api_key']}"
    with connect(url) as socket:
        ready = json.loads(socket.recv(timeout=5))
        [protocol] = [
            o for o in gc.get_objects() if isinstance(o, LeanWebSocketProtocol) and not o.disconnected
        ]
        on_server_loop(protocol.loop, protocol.pause_writing)  # as the transport does when its buffer fills
        started = server.client.post(
            "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
        )
        assert started.status_code == 200
        [subscriber] = [s for s in server.services.hub._keys_of if isinstance(s, Subscriber)]
        deadline = time.monotonic() + 5
        while not subscriber.queue.overflowed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert subscriber.queue.overflowed
        on_server_loop(protocol.loop, protocol.resume_writing)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4008
    monkeypatch.setattr(hub_module, "QUEUE_LIMIT", 1000)
    with connect(f"{url}&after={ready['data']['last_seq']}") as socket:
        missed = [json.loads(socket.recv(timeout=5)) for _ in range(2)]
        resumed = json.loads(socket.recv(timeout=5))
    assert [frame["event"] for frame in missed] == ["conversation.started", "conversation.queued"]
    assert resumed["event"] == "ready"
    assert resumed["data"]["last_seq"] == missed[-1]["seq"]
