"""Support for the outbound tests: a real HTTP(S) receiver on loopback, a real SQLite store, a world in it.

The receiver is a small asyncio HTTP/1.1 server whose replies each test scripts (status, body, delays,
dribbled or oversized bodies). This module is also registered as ``outbound_kit`` so test modules can
import its helpers by a name that cannot clash with another directory's conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpline.config import Settings, parse_networks
from helpline.core.admin import create_account, create_department, create_token
from helpline.core.events import NewEvent
from helpline.core.model import SYSTEM, Conversation, ConversationState, Department, Endpoint, Event
from helpline.outbound.guard import OutboundGuard
from helpline.outbound.http import OutboundHttp
from helpline.outbound.model import Delivery, PlannedDelivery
from helpline.outbound.planner import Planner
from helpline.outbound.repository import Deliveries
from helpline.outbound.worker import DeliveryWorker
from helpline.store.base import Store
from helpline.store.open import open_store
from helpline.store.unit_of_work import UnitOfWork

sys.modules.setdefault("outbound_kit", sys.modules[__name__])
_store_support = str(Path(__file__).parents[1] / "store")
if _store_support not in sys.path:
    sys.path.insert(0, _store_support)

from store_backends import BACKENDS, database_url  # noqa: E402

DIALECT = "test"
LOOPBACK = parse_networks("127.0.0.1/32,::1/128")


# -- the receiver ---------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    chunks: int = 0  # > 0: send ``body`` this many times, without a length, pausing ``chunk_delay``
    chunk_delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    sni: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Seen], Reply]


class Receiver:
    """``async with Receiver(handler) as r``: listens on 127.0.0.1, records every request in ``r.seen``."""

    def __init__(
        self, handler: Handler | Sequence[Reply] | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        if handler is None:
            self.handler: Handler = lambda seen: Reply()
        elif callable(handler):
            self.handler = handler
        else:
            script = list(handler)
            self.handler = lambda seen: script.pop(0) if len(script) > 1 else script[0]
        self.ssl_context = ssl_context
        self.seen: list[Seen] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sni: dict[int, str | None] = {}

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    async def __aenter__(self) -> Receiver:
        if self.ssl_context is not None:
            self.ssl_context.sni_callback = self._remember_sni
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        await self._server.wait_closed()

    def _remember_sni(self, sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        self._sni[id(sock)] = name

    async def wait_for(self, count: int, within: float = 5.0) -> list[Seen]:
        deadline = time.monotonic() + within
        while len(self.seen) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.seen)}")
            await asyncio.sleep(0.01)
        return self.seen

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        ssl_object = writer.get_extra_info("ssl_object")
        sni = self._sni.get(id(ssl_object)) if ssl_object is not None else None
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, path, headers, body, time.monotonic(), sni)
                self.seen.append(seen)
                reply = self.handler(seen)
                if not await self._reply(writer, reply):
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _reply(self, writer: asyncio.StreamWriter, reply: Reply) -> bool:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        head = [f"HTTP/1.1 {reply.status} X"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        if reply.chunks:
            head.append("connection: close")
        elif "content-length" not in {name.lower() for name in reply.headers}:
            head.append(f"content-length: {len(reply.body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if not reply.chunks:
            writer.write(reply.body)
            await writer.drain()
            return True
        for _ in range(reply.chunks):
            writer.write(reply.body)
            await writer.drain()
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
        return False


# -- TLS, with certificates made by the openssl command ------------------------------------------------


@dataclass
class Pki:
    ca: Path
    directory: Path

    def server_context(self, name: str) -> ssl.SSLContext:
        key, cert = self.directory / f"{name}.key", self.directory / f"{name}.crt"
        if not cert.exists():
            csr = self.directory / f"{name}.csr"
            ext = self.directory / f"{name}.ext"
            ext.write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\n")
            _openssl(
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                csr,
                "-subj",
                f"/CN={name}",
            )
            _openssl(
                "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.directory / "ca.key",
                "-CAcreateserial", "-out", cert, "-days", "2", "-sha256", "-extfile", ext,
            )  # fmt: skip
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def _openssl(*args: object) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    try:
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory / "ca.key",
            "-out", directory / "ca.crt", "-days", "2", "-subj", "/CN=Helpline test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"the openssl command is needed to make test certificates: {error}")
    return Pki(directory / "ca.crt", directory)


def static_resolver(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    """A resolver for made-up hostnames (so the test knows the system resolver was not asked)."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown test host {host}")
        return table[host]

    return resolve


# -- the store and a world in it -------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on a fresh database, once on SQLite and once on PostgreSQL (see store_backends)."""
    with database_url(request.param, tmp_path) as url:
        opened = open_store(url)
        try:
            yield opened
        finally:
            opened.close_sync()


@dataclass
class World:
    """One account with a webhook endpoint, a department and conversations opened by the test dialect."""

    store: Store
    account_id: int
    endpoint: Endpoint
    department_id: int
    token_id: int

    def conversation(self, dialect: str = DIALECT) -> int:
        def work(uow: UnitOfWork) -> int:
            created = uow.conversations.create(
                Conversation(
                    id=0,
                    hash=secrets.token_hex(8),
                    account_id=self.account_id,
                    department_id=self.department_id,
                    origin_department_id=self.department_id,
                    contact_id=None,
                    state=ConversationState.QUEUED,
                    origin_dialect=dialect,
                    origin_token_id=self.token_id,
                    created_at=uow.now,
                    updated_at=uow.now,
                )
            )
            return created.id

        return self.store.write_sync(work)

    def emit(self, conversation_id: int | None, n: int, kind: str = "message.created") -> int:
        def work(uow: UnitOfWork) -> int:
            event = NewEvent(self.account_id, kind, {"n": n}, SYSTEM, conversation_id=conversation_id)
            return uow.emit(event).seq

        return self.store.write_sync(work)

    def deliveries(self) -> list[Delivery]:
        found: list[Delivery] = self.store.read_sync(
            lambda uow: Deliveries.from_uow(uow).list(None, None, 1000)
        )
        return sorted(found, key=lambda d: d.id)

    def delivery(self, delivery_id: int) -> Delivery:
        found = self.store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery_id))
        assert found is not None
        return found

    def endpoint_now(self) -> Endpoint:
        found = self.store.read_sync(lambda uow: uow.endpoints.get(self.endpoint.id))
        assert found is not None
        return found


def make_world(store: Store, webhook_url: str) -> World:
    def work(uow: UnitOfWork) -> World:
        account = create_account(uow, "Acme")
        issued = create_token(uow, account.id, webhook_url)
        department = create_department(uow, Department(id=0, account_id=account.id, name="Support"))
        assert issued.endpoint is not None
        return World(store, account.id, issued.endpoint, department.id, issued.token.id)

    return store.write_sync(work)


def render(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
    """The test dialect: every event of its conversations goes to the token's endpoint as ``{seq, n}``."""
    assert conversation.origin_token_id is not None
    token = uow.tokens.get(conversation.origin_token_id)
    if token is None or token.endpoint_id is None:
        return []
    body = json.dumps({"seq": event.seq, "type": event.type, "n": event.data.get("n")})
    return [PlannedDelivery(endpoint_id=token.endpoint_id, body=body)]


def quick_settings(**overrides: Any) -> Settings:
    settings = Settings(retry_schedule=(0.0, 0.05, 0.05), webhook_timeout=2.0, outbound_allow=LOOPBACK)
    for name, value in overrides.items():
        setattr(settings, name, value)
    return settings


def make_worker(
    store: Store,
    settings: Settings | None = None,
    allow: bool = True,
    renderers: dict[str, Any] | None = None,
) -> DeliveryWorker:
    settings = settings or quick_settings()
    guard = OutboundGuard(settings.outbound_allow if allow else ())
    http = OutboundHttp(guard, settings)
    planner = Planner(renderers if renderers is not None else {DIALECT: render})
    # The store's clock, as bootstrap gives it: on PostgreSQL the database's, which the planner's
    # next_attempt_at comes from; the host's clock could be behind it and find nothing due yet.
    return DeliveryWorker(store, http, planner, settings, store.clock, idle_seconds=0.02)


async def run_worker_until(worker: DeliveryWorker, done: Callable[[], bool], within: float = 5.0) -> None:
    """Run the worker loop until ``done()`` holds (checked every 20 ms), then stop it and close its client."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        deadline = time.monotonic() + within
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError("the worker did not get there in time")
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
        await worker.http.aclose()
