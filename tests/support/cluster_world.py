"""What the fan-out cluster tests share: an account made through the CLI, agent sockets that collect their
frames on a thread, and a private ``redis-server`` a test may stop and restart."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from cluster import Cluster, Node


def setup_account(nodes: Cluster, webhook_url: str | None = None, role: str = "admin") -> dict[str, Any]:
    """An account with one queued department, a token (with a webhook when given) and one agent."""
    account = nodes.cli("account", "create", "Acme")["id"]
    department = nodes.cli("department", "create", "--account", str(account), "Support")["id"]
    token_args = ["--webhook-url", webhook_url] if webhook_url else []
    token = nodes.cli("token", "create", "--account", str(account), *token_args)
    agent = nodes.cli(
        "agent", "create", "--account", str(account), "--name", "Ana", "--email", f"ana{account}@acme.test",
        "--password", "s3cret", "--department", str(department), "--role", role,
    )  # fmt: skip
    return {
        "account_id": account,
        "department_id": department,
        "token": token["token"],
        "token_id": token["id"],
        "signing_secret": token.get("signing_secret"),
        "agent_id": agent["id"],
        "api_key": agent["api_key"],
    }


def start_conversation(node: Node, setup: dict[str, Any], client: httpx.Client | None = None) -> str:
    body = {"token": setup["token"], "department_id": setup["department_id"]}
    answer = (client or httpx).post(f"{node.url}/api/v1/interactions", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    interaction: str = answer.json()["data"]["interaction_hash"]
    return interaction


def post_message(
    node: Node, setup: dict[str, Any], interaction: str, text: str, client: httpx.Client | None = None
) -> httpx.Response:
    return (client or httpx).post(
        f"{node.url}/api/v1/interactions/{interaction}/messages",
        json={"token": setup["token"], "content": text, "type": "text"},
        timeout=10,
    )


@dataclass
class Collector:
    """An agent socket read on its own thread: every frame with the time it arrived."""

    url: str
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    ready: dict[str, Any] | None = None
    closed: BaseException | None = None
    _socket: ClientConnection | None = None
    _thread: threading.Thread | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def start(self) -> Collector:
        self._socket = self._stack.enter_context(connect(self.url, open_timeout=10))
        while True:  # with ?after=N the backlog comes first, then "ready"
            frame = json.loads(self._socket.recv(timeout=10))
            if frame.get("event") == "ready":
                self.ready = frame
                break
            self.frames.append((time.monotonic(), frame))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> None:
        assert self._socket is not None
        try:
            for raw in self._socket:
                self.frames.append((time.monotonic(), json.loads(raw)))
        except (ConnectionClosed, OSError) as problem:
            self.closed = problem

    def seqs(self) -> list[int]:
        return [frame["seq"] for _, frame in self.frames if "seq" in frame]

    def arrival(self, predicate: Any) -> float | None:
        for at, frame in list(self.frames):
            if predicate(frame):
                return at
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def agent_ws(node: Node, api_key: str, after: int | None = None) -> str:
    url = f"{node.ws_url}/api/agent/v1/ws?api_key={api_key}"
    return url if after is None else f"{url}&after={after}"


@contextlib.contextmanager
def collecting(url: str) -> Iterator[Collector]:
    collector = Collector(url).start()
    try:
        yield collector
    finally:
        collector.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivateRedis:
    """A ``redis-server`` of the test's own on a loopback port: the machine's Redis is never stopped."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (the cluster tests start one of their own)"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return self
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def command(self, *words: str) -> bytes:
        """One command in Redis's inline form; its raw answer."""
        with socket.create_connection(("127.0.0.1", self.port), 2) as conn:
            conn.sendall((" ".join(words) + "\r\n").encode())
            return conn.recv(4096)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port()).start()
    try:
        yield server
    finally:
        server.stop()
