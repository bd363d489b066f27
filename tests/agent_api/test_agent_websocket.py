"""The agent websocket's costs: no per-socket compression, and a socket the client closes leaves the hub at
once (not when the next frame for it fails)."""

from __future__ import annotations

import json
import time

from helpline_testing import RunningServer
from websockets.sync.client import connect


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
