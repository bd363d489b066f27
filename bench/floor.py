"""The floor: the least an ASGI app on Helpline's own server stack can do per chat message.

``POST /interactions/{hash}/messages`` decodes the same JSON body Helpline's Omnize V1 endpoint takes,
inserts one row into an SQLite file opened with Helpline's settings (WAL, ``synchronous=NORMAL``) through
group commit on the event loop with the WAL kept bounded by a checkpointer thread (as
``helpline.store.sqlite`` does in the server), then writes one websocket text
frame to the socket that registered that hash, and answers 200.

``WS /ws?conversations=h1,h2,...`` registers a socket for those hashes and sends ``{"event": "ready"}``.

It runs under ``uvicorn.run`` with the same arguments ``helpline serve`` uses, so uvicorn picks the same
loop (uvloop) and HTTP parser (httptools), and the same websocket protocol (Helpline's, which both pass).

    python -m bench.floor --port 8100 --db /tmp/floor.db
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator

import msgspec
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from helpline.web.websocket import LeanWebSocketProtocol

# The same batch bound and checkpoint settings as helpline.store.sqlite.
MAX_BATCH = 64
CHECKPOINT_SECONDS = 0.1
RESTART_FRAMES = 16_000  # as helpline.store.sqlite
RESTART_BUSY_MS = 10
STAND_ASIDE_WAIT_SECONDS = 0.002
OK_BODY = msgspec.json.encode({"message": "Message created successfully", "status": 200})


class SendMessage(msgspec.Struct):
    """The Omnize V1 message body (the fields Helpline reads on this path)."""

    content: str
    token: str | None = None
    type: str = "text"


class MessageOut(msgspec.Struct):
    content: str
    hash: str
    type: str
    created_at: float


class FrameData(msgspec.Struct):
    message: MessageOut
    conversation_id: str


class Frame(msgspec.Struct):
    seq: int
    event: str
    data: FrameData


def connect(path: str) -> sqlite3.Connection:
    """The same connection settings as ``helpline.store.sqlite_connection.connect``."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


class Writer:
    """Group commit on the event loop, as ``helpline.store.sqlite`` does when the server runs: inserts
    queued during one turn of the loop commit together on the next; checkpoints run in a thread and keep
    the WAL bounded the same way (PASSIVE, then RESTART past ``RESTART_FRAMES`` while the loop stands
    aside), so the floor's commits write into a WAL of the same size as Helpline's."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = connect(path)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, conversation TEXT NOT NULL,"
            " content TEXT NOT NULL, type TEXT NOT NULL, created_at REAL NOT NULL)"
        )
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self.conn.execute("PRAGMA busy_timeout=0")
        self._stand_aside = threading.Event()
        self._stood_aside = threading.Event()
        self._pending: list[tuple[tuple[object, ...], asyncio.Future[int]]] = []
        self._scheduled = False
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoints, name="floor-checkpoint", daemon=True)
        self._checkpointer.start()

    def _checkpoints(self) -> None:
        conn = connect(self.path)
        conn.execute(f"PRAGMA busy_timeout={RESTART_BUSY_MS}")
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                with contextlib.suppress(sqlite3.Error):
                    _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames >= RESTART_FRAMES:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                        self._stood_aside.clear()
                        self._stand_aside.set()
                        try:
                            self._stood_aside.wait(STAND_ASIDE_WAIT_SECONDS)
                            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
                        finally:
                            self._stand_aside.clear()
        finally:
            conn.close()

    def _flush(self) -> None:
        self._scheduled = False
        loop = asyncio.get_running_loop()
        conn = self.conn
        try:
            if self._stand_aside.is_set():
                self._stood_aside.set()
                raise sqlite3.OperationalError("database is locked (checkpoint)")
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # the checkpointer holds the write lock: try again shortly
            self._scheduled = True
            loop.call_later(0.001, self._flush)
            return
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:
            self._scheduled = True
            loop.call_soon(self._flush)
        try:
            ids = [
                conn.execute(
                    "INSERT INTO messages (conversation, content, type, created_at) VALUES (?, ?, ?, ?)", row
                ).lastrowid
                for row, _ in batch
            ]
            conn.execute("COMMIT")
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), row_id in zip(batch, ids, strict=True):
            if not future.done():
                future.set_result(row_id or 0)

    async def insert(self, row: tuple[object, ...]) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append((row, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def close(self) -> None:
        self._stop.set()
        self._checkpointer.join(timeout=10)
        self.conn.close()


def create_app(db_path: str) -> Starlette:
    sockets: dict[str, WebSocket] = {}
    writer: Writer | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal writer
        writer = Writer(db_path)
        try:
            yield
        finally:
            writer.close()

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def post_message(request: Request) -> Response:
        conversation = request.path_params["hash"]
        try:
            body = msgspec.json.decode(await request.body(), type=SendMessage)
        except msgspec.DecodeError as bad:
            return Response(msgspec.json.encode({"message": str(bad), "status": 400}), 400)
        socket = sockets.get(conversation)
        if socket is None:
            return Response(b'{"message":"Interaction not found","status":404}', 404)
        now = time.time()
        assert writer is not None
        row_id = await writer.insert((conversation, body.content, body.type, now))
        frame = Frame(
            seq=row_id,
            event="message.created",
            data=FrameData(MessageOut(body.content, f"m{row_id}", body.type, now), conversation),
        )
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await socket.send_text(msgspec.json.encode(frame).decode())
        return Response(OK_BODY, media_type="application/json")

    async def ws(websocket: WebSocket) -> None:
        hashes = [h for h in websocket.query_params.get("conversations", "").split(",") if h]
        await websocket.accept()
        for h in hashes:
            sockets[h] = websocket
        try:
            await websocket.send_text('{"event":"ready","data":{}}')
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
        finally:
            for h in hashes:
                if sockets.get(h) is websocket:
                    del sockets[h]

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/interactions/{hash}/messages", post_message, methods=["POST"]),
            WebSocketRoute("/ws", ws),
        ],
        lifespan=lifespan,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file to insert into (created if missing)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    # The same call ``helpline serve`` makes (src/helpline/cli/serve.py).
    uvicorn.run(
        create_app(args.db),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=logging.getLevelNamesMapping().get(args.log_level.upper(), logging.DEBUG) <= logging.INFO,
        ws_max_size=1 << 20,
        ws_per_message_deflate=False,
        ws=LeanWebSocketProtocol,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
