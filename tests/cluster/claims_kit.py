"""Helpers for the cluster tests of claimed work: a webhook receiver that can tell which ``helpline serve``
process sent each request, and a direct look into the cluster's database."""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from cluster import Cluster


@dataclass
class Hit:
    webhook_id: str
    started: float
    ended: float
    status: int
    sender: str  # the node whose process held the client's socket ("?" when it could not be told)
    body: bytes


@dataclass
class Receiver:
    """A threaded HTTP/1.1 receiver on 127.0.0.1; ``decide(webhook_id, hits_so_far)`` → (status, delay)."""

    decide: Callable[[str, list[Hit]], tuple[int, float]]
    pids: dict[int, str] = field(default_factory=dict)  # process id -> node name
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    document: Any = None  # what a GET answers, as JSON

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def sender_of(self, port: int) -> str:
        """The node whose process has a socket bound to local port ``port`` on this host (Linux /proc)."""
        inodes: set[str] = set()
        for line in _proc_tcp_lines():
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
        for pid, name in self.pids.items():
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                        if link.startswith("socket:[") and link[8:-1] in inodes:
                            return name
        return "?"

    def for_id(self, webhook_id: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.webhook_id == webhook_id]


def _proc_tcp_lines() -> list[str]:
    lines: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as found:
            lines.extend(found.read().splitlines()[1:])
    return lines


@contextlib.contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    senders: dict[int, str] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            started = time.time()
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            webhook_id = self.headers.get("webhook-id") or ""
            port = self.client_address[1]
            if port not in senders:
                senders[port] = receiver.sender_of(port)
            status, delay = receiver.decide(webhook_id, receiver.for_id(webhook_id))
            time.sleep(delay)
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            self.wfile.flush()
            with receiver.lock:
                receiver.hits.append(Hit(webhook_id, started, time.time(), status, senders[port], body))

        def do_GET(self) -> None:  # an external history document
            started = time.time()
            port = self.client_address[1]
            if port not in senders:
                senders[port] = receiver.sender_of(port)
            body = json.dumps(receiver.document).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            with receiver.lock:
                receiver.hits.append(Hit(self.path, started, time.time(), 200, senders[port], b""))

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def flaky(
    failure_rate: float, max_failures: int, max_delay: float, seed: int = 13
) -> Callable[[str, list[Hit]], tuple[int, float]]:
    """Random 500s (at most ``max_failures`` per webhook-id, so every delivery gets through) and delays."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def decide(_webhook_id: str, before: list[Hit]) -> tuple[int, float]:
        with lock:
            fail = sum(hit.status >= 500 for hit in before) < max_failures and rng.random() < failure_rate
            return (500 if fail else 200), rng.uniform(0, max_delay)

    return decide


def rows(nodes: Cluster, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    with psycopg.connect(nodes.database_url, row_factory=dict_row, autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


@dataclass
class Setup:
    account: int
    department: int
    token: str
    agent_key: str
    agent_id: int


def setup(nodes: Cluster, webhook_url: str | None, *department_args: str, agents: int = 1) -> list[Setup]:
    """An account, a department (``department_args`` go to ``department create``), a token (with
    ``webhook_url``) and ``agents`` agents of the department, all online."""
    account = nodes.cli("account", "create", "Acme")["id"]
    department = nodes.cli("department", "create", "--account", str(account), *department_args, "Support")[
        "id"
    ]
    token_args = ["--webhook-url", webhook_url] if webhook_url else []
    token = nodes.cli("token", "create", "--account", str(account), *token_args)["token"]
    keys = add_agents(nodes, account, department, agents)
    made: list[Setup] = []
    for n, (agent_id, key) in enumerate(keys):
        go_online(nodes[n % len(nodes.nodes)].url, key)
        made.append(Setup(account, department, token, key, agent_id))
    return made


def add_agents(nodes: Cluster, account: int, department: int, count: int) -> list[tuple[int, str]]:
    """``count`` agents of ``department`` (offline), made through the store (quicker than a CLI process
    each): their ids and API keys."""
    from helpline.core import admin
    from helpline.store.open import open_store

    store = open_store(nodes.database_url, migrate=False)
    try:
        start = len(rows(nodes, "SELECT id FROM agents"))
        made = [
            store.write_sync(
                lambda uow, n=n: admin.create_agent(
                    uow, account, f"Agent {n}", f"agent{n}@acme.test", "s3cret-pass", [department]
                )
            )
            for n in range(start, start + count)
        ]
    finally:
        store.close_sync()
    return [(created.agent.id, created.api_key) for created in made]


def go_online(base_url: str, key: str) -> None:
    answer = httpx.put(
        f"{base_url}/api/agent/v1/presence",
        headers={"authorization": f"Bearer {key}"},
        json={"status": "online"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def start_interaction(base_url: str, token: str, department: int, client_id: str, **more: Any) -> str:
    answer = httpx.post(
        f"{base_url}/api/v1/interactions",
        json={
            "token": token,
            "media_type": "text",
            "department_id": str(department),
            "customer": {"name": "Joao", "email": f"{client_id}@example.com"},
            "extra": {"clientId": client_id},
        }
        | more,
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text
    found: str = answer.json()["data"]["interaction_hash"]
    return found


def wait(predicate: Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"{what} not reached within {timeout} s")
