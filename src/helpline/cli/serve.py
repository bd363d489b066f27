"""``helpline serve``: migrate, then run the ASGI app under uvicorn (uvloop and httptools when present)."""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline import logs
from helpline.bootstrap import create_app
from helpline.cli.checks import port_problem
from helpline.cli.output import fail
from helpline.config import Settings
from helpline.realtime.doorbell import node_name
from helpline.store.open import open_store
from helpline.web import connections, loop_lag
from helpline.web.websocket import LeanWebSocketProtocol


def serve(settings: Settings, log_level: str = "info") -> int:
    # Several processes write to one aggregator: each line names its own.
    node = node_name().replace("%", "%%")
    logging.basicConfig(
        level=log_level.upper(), format=f"%(asctime)s {node} %(levelname)s %(name)s: %(message)s"
    )
    logs.install_on_root(log_level)
    connections.raise_file_limit()
    busy = port_problem(settings.host, settings.port)
    if busy:
        return fail(busy)
    url = settings.resolved_database_url()
    try:
        store = open_store(url, data_dir=settings.data_dir)
    except Exception as problem:
        return fail(f"cannot open the database {url}: {problem}")
    app: ASGIApp = create_app(settings, store)
    profiler = loop_lag.from_environment()
    if profiler is not None:
        app = _profiled(app, profiler)
        watch = getattr(store, "watch_waits", None)
        if watch is not None:
            watch(profiler.note)
    _settle_the_heap()
    uvicorn.run(app, **server_options(settings, log_level))
    return 0


def _profiled(app: ASGIApp, profiler: loop_lag.LoopLagProfiler) -> ASGIApp:
    """``app`` with the loop-lag profiler running from the lifespan's start-up to its shutdown."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                profiler.start(asyncio.get_running_loop())
            elif message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                profiler.stop()
            await send(message)

        await app(scope, receive, sending)

    return wrapped


def server_options(settings: Settings, log_level: str) -> dict[str, Any]:
    """uvicorn's settings for Helpline (also what the test suite's servers run with)."""
    level = logging.getLevelNamesMapping().get(log_level.upper(), logging.DEBUG)
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "log_config": _naming_the_process(logs.server_log_config()),
        # uvicorn builds every request's access line (client address, quoted path) before its logger
        # drops it; below the info level, don't have it built.
        "access_log": level <= logging.INFO,
        "ws_max_size": 1 << 20,
        # Slow request heads and bodies time out, and connections stay below the open-file limit.
        "http": connections.protocol_for(connection_limits(settings)),
        # Browsers ask for permessage-deflate; granting it gives every socket zlib streams of its own
        # (measured: 74 KB per idle socket with it, 36 KB without; python -m bench.sockets) and compresses
        # each frame once per socket, where the hub encodes it once for all. The frames are small JSON.
        "ws_per_message_deflate": False,
        # uvicorn's sans-I/O websocket protocol, keeping less per open socket (web/websocket.py).
        "ws": LeanWebSocketProtocol,
    }


def _naming_the_process(config: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's lines (access, errors) start with this process's name too."""
    node = node_name().replace("%", "%%")
    for formatter in config.get("formatters", {}).values():
        if "fmt" in formatter:
            formatter["fmt"] = f"{node} {formatter['fmt']}"
    return config


def connection_limits(settings: Settings) -> connections.ConnectionLimits:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return connections.ConnectionLimits(
        max_connections=settings.max_connections or connections.connection_limit(soft),
        head_timeout=settings.head_timeout,
        body_timeout=settings.body_timeout,
    )


def _settle_the_heap() -> None:
    """Everything imported and built so far lives as long as the server: freeze it out of the collector's
    full passes, and let the young generation grow larger between passes. Every message allocates a few
    dozen short-lived containers; with the default threshold (700) the collector ran every few messages
    and showed up as several percent of a busy server's time."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


GC_YOUNG_THRESHOLD = 20_000
