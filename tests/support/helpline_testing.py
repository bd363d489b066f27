"""Test support: a real ``helpline`` server in a thread on 127.0.0.1, and a real webhook receiver.

Tests talk to both over real sockets; nothing in here stands in for the code under test.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from helpline.bootstrap import create_app
from helpline.cli.serve import server_options
from helpline.config import Settings, parse_networks
from helpline.core import admin
from helpline.core.model import Department, Role
from helpline.store.base import Store
from helpline.store.open import open_store
from helpline.web.services import Services


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on loopback that records every request; ``respond`` decides each status."""

    received: list[Received] = field(default_factory=list)
    respond: Callable[[Received], int] = lambda request: 200
    # The body of each answer and its media type.
    answer: Callable[[Received], tuple[bytes, str]] = lambda request: (
        b'{"message":"ok"}',
        "application/json",
    )
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Receiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                request = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                status = outer.respond(request)
                with outer._lock:
                    outer.received.append(request)
                body, media = outer.answer(request)
                self.send_response(status)
                self.send_header("content-type", media)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.json() for r in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self._lock:
            raise AssertionError(f"expected {count} requests, got {len(self.received)}: {self.received}")


@dataclass
class RunningServer:
    url: str
    store: Store
    settings: Settings
    client: httpx.Client
    services: Services

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :]

    def setup_account(
        self, webhook_url: str | None = None, queue: bool = True, queued_max_time: int = 900
    ) -> dict[str, Any]:
        """An account with one department, a token (with webhook) and an agent: the README's walkthrough."""

        def work(uow: Any) -> dict[str, Any]:
            account = admin.create_account(uow, "Acme")
            department = admin.create_department(
                uow,
                Department(
                    id=0,
                    account_id=account.id,
                    name="Support",
                    queue_enabled=queue,
                    queued_max_time=queued_max_time,
                ),
            )
            issued = admin.create_token(uow, account.id, webhook_url)
            agent = admin.create_agent(
                uow, account.id, "Ana", f"ana{account.id}@acme.test", "s3cret", [department.id]
            )
            return {
                "account_id": account.id,
                "department_id": department.id,
                "token": issued.secret,
                "signing_secret": issued.endpoint.secret if issued.endpoint else None,
                "agent_id": agent.agent.id,
                "api_key": agent.api_key,
            }

        return self.store.write_sync(work)

    def add_agent(self, account_id: int, department_ids: list[int], name: str = "Bob") -> dict[str, Any]:
        created = self.store.write_sync(
            lambda uow: admin.create_agent(
                uow,
                account_id,
                name,
                f"{name.lower()}{time.monotonic_ns()}@acme.test",
                "s3cret",
                department_ids,
            )
        )
        return {"agent_id": created.agent.id, "api_key": created.api_key}

    def add_department(self, account_id: int, name: str, **options: Any) -> int:
        department = self.store.write_sync(
            lambda uow: admin.create_department(
                uow, Department(id=0, account_id=account_id, name=name, **options)
            )
        )
        return department.id

    def agent_headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}


@contextlib.contextmanager
def start_server(data_dir: Path, **overrides: Any) -> Iterator[RunningServer]:
    settings = Settings(
        data_dir=str(data_dir),
        outbound_allow=parse_networks("127.0.0.1/32,::1/128"),
        retry_schedule=(0.0, 0.2, 0.4),
        tick_seconds=0.2,
        webhook_timeout=5.0,
    )
    port = free_port()
    settings.port = port
    for key, value in overrides.items():
        setattr(settings, key, value)
    store = open_store(settings.resolved_database_url(), data_dir=settings.data_dir)
    app = create_app(settings, store)
    options = {**server_options(settings, "warning"), "host": "127.0.0.1"}
    config = uvicorn.Config(app, lifespan="on", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", store, settings, client, app.state.services)
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=15)


def create_agent(
    server: RunningServer,
    account_id: int,
    name: str,
    department_ids: list[int],
    role: str = "agent",
    password: str | None = None,
) -> dict[str, Any]:
    """An agent with a known email and password (to sign in to the console), and their API key.

    The password is the same as the other helpers' agents have unless given."""
    password = password or "s3cret"
    email = f"{name.lower()}{time.monotonic_ns()}@acme.test"
    created = server.store.write_sync(
        lambda uow: admin.create_agent(uow, account_id, name, email, password, department_ids, Role(role))
    )
    return {
        "agent_id": created.agent.id,
        "api_key": created.api_key,
        "email": email,
        "password": password,
        "name": name,
    }
