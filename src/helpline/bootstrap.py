"""The one place that wires Helpline together: store, hub, dialects, outbound worker, timers, HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from helpline import __version__
from helpline.admin_api import routes as admin_routes
from helpline.admin_api import widget as admin_widget
from helpline.agent_api import routes as agent_routes
from helpline.config import Settings
from helpline.console import routes as console_routes
from helpline.core import events as ev
from helpline.core.model import Event
from helpline.dialects.novatalks import DIALECT as NOVATALKS
from helpline.dialects.novatalks import additions as novatalks_additions
from helpline.dialects.novatalks import guard as novatalks_guard
from helpline.dialects.novatalks import push as novatalks_push
from helpline.dialects.novatalks import routes as novatalks_routes
from helpline.dialects.novatalks import ws as novatalks_ws
from helpline.dialects.omnidesk import DIALECT as OMNIDESK
from helpline.dialects.omnidesk import hookpoints as omnidesk_hookpoints
from helpline.dialects.omnidesk import routes as omnidesk_routes
from helpline.dialects.omnize_rest import DIALECT as OMNIZE_REST
from helpline.dialects.omnize_rest import routes as omnize_rest_routes
from helpline.dialects.omnize_rest import triggers as omnize_rest_triggers
from helpline.dialects.omnize_v1 import DIALECT as OMNIZE_V1
from helpline.dialects.omnize_v1 import history as omnize_v1_history
from helpline.dialects.omnize_v1 import routes as omnize_v1_routes
from helpline.dialects.omnize_v1 import triggers as omnize_v1_triggers
from helpline.dialects.zenvia_bot import DIALECT as ZENVIA_BOT
from helpline.dialects.zenvia_bot import calls as zenvia_bot_calls
from helpline.dialects.zenvia_bot import routes as zenvia_bot_routes
from helpline.files.database import DatabaseFileStore
from helpline.files.local import LocalFileStore
from helpline.jobs.history import LEASE_MARGIN as history_lease_margin
from helpline.jobs.history import HistoryLoader
from helpline.jobs.timers import run_timers
from helpline.jobs.uploads import run_upload_sweeps
from helpline.openapi import documents
from helpline.outbound.fetch import fetch_json
from helpline.outbound.guard import OutboundGuard
from helpline.outbound.http import OutboundHttp
from helpline.outbound.planner import Planner
from helpline.outbound.render import Renderer
from helpline.outbound.worker import DeliveryWorker
from helpline.realtime.doorbell import Doorbell, channel_for
from helpline.realtime.hub import Hub
from helpline.store.db_clock import DatabaseClock
from helpline.store.open import AnyStore, open_store
from helpline.web import files as file_routes
from helpline.web.app import App
from helpline.web.http import json_response
from helpline.web.index import index_page
from helpline.web.operating import Operating, RequestMetrics
from helpline.web.routing import by_prefix
from helpline.web.services import Services
from helpline.widget import routes as widget_routes

log = logging.getLogger("helpline")

RENDERERS: dict[str, Renderer] = {
    OMNIZE_V1: omnize_v1_triggers.render,
    OMNIZE_REST: omnize_rest_triggers.render,
    OMNIDESK: omnidesk_hookpoints.render,
    NOVATALKS: novatalks_push.render,
}
# Observers see the events of every conversation, whichever API opened it: a department's bot.
OBSERVERS: dict[str, Renderer] = {ZENVIA_BOT: zenvia_bot_calls.render}
HISTORY_PARSERS = {OMNIZE_V1: omnize_v1_history.parse_history}


def create_app(settings: Settings, store: AnyStore | None = None) -> Starlette:
    store = store or open_store(settings.resolved_database_url(), data_dir=settings.data_dir)
    clock = store.clock  # on PostgreSQL the database's (see store/db_clock.py), for the worker's leases too

    async def fetch_events(after: int, limit: int) -> list[Event]:
        return await store.read(lambda uow: uow.events.after(after, limit))

    hub = Hub(fetch_events, start_seq=store.read_sync(lambda uow: uow.events.last_seq()))
    files = (
        DatabaseFileStore(store)
        if settings.file_store == "database"
        else LocalFileStore(settings.files_dir())
    )
    services = Services(store=store, settings=settings, hub=hub, files=files)
    http = OutboundHttp(OutboundGuard(settings.outbound_allow), settings)
    worker = DeliveryWorker(
        store,
        http,
        Planner(RENDERERS, OBSERVERS),
        settings,
        clock,
        on_give_up=[zenvia_bot_calls.give_up],
        files=services.files,
    )

    async def history_fetch(url: str) -> Any:
        return await fetch_json(http, url, settings.history_max_bytes, settings.history_timeout)

    history = HistoryLoader(
        store, history_fetch, HISTORY_PARSERS, lease=settings.history_timeout + history_lease_margin
    )

    def after_dispatch(events: list[Event]) -> None:
        worker.on_events(events)
        if any(e.type == ev.CONVERSATION_STARTED for e in events):
            history.wake()

    hub.add_listener(after_dispatch)
    doorbell = None
    if settings.redis_url:
        channel = channel_for(store.url, settings.redis_channel)
        doorbell = Doorbell(settings.redis_url, channel, hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        store.bind(asyncio.get_running_loop())
        store.add_listener(hub.publish, asyncio.get_running_loop())
        if doorbell is not None:
            store.add_listener(doorbell.ring, asyncio.get_running_loop())
        tasks = [
            asyncio.create_task(hub.run(stop), name="hub"),
            asyncio.create_task(worker.run(stop), name="deliveries"),
            asyncio.create_task(run_timers(store, stop, settings.tick_seconds), name="timers"),
            asyncio.create_task(history.run(stop, settings.tick_seconds), name="history"),
            asyncio.create_task(run_upload_sweeps(files, stop, clock.now), name="upload sweeps"),
        ]
        if doorbell is not None:
            tasks.append(asyncio.create_task(doorbell.run(stop), name="doorbell"))
        if isinstance(clock, DatabaseClock):
            tasks.append(asyncio.create_task(clock.run(store, stop), name="database clock"))
        log.info("helpline %s serving with %s", __version__, store.url.split("?")[0])
        try:
            yield
        finally:
            stop.set()
            worker.wake()
            history.wake()
            await asyncio.wait(tasks, timeout=10)
            for task in tasks:
                task.cancel()
            await http.aclose()
            await store.close()

    operating = Operating(store, hub, doorbell)
    routes: list[BaseRoute] = [
        Route("/", _index, methods=["GET"]),
        Route("/healthz", _health, methods=["GET"]),
        *operating.routes(),
        *documents.routes(),
        *file_routes.routes(services),
        *omnize_v1_routes.routes(services),
        *omnize_rest_routes.routes(services),
        *zenvia_bot_routes.routes(services),
        *omnidesk_routes.routes(services),
        *novatalks_guard.wrap(
            [
                *novatalks_routes.routes(services),
                *novatalks_additions.routes(services),
                *novatalks_ws.routes(services),
            ],
            services,
        ),
        *agent_routes.routes(services),
        *admin_routes.routes(services),
        *admin_widget.routes(services),
        *console_routes.routes(),
        *widget_routes.routes(),
    ]
    layout = by_prefix(routes)
    app = App(
        routes=layout,
        lifespan=lifespan,
        exception_handlers={ClientDisconnect: _client_gone},
        middleware=[Middleware(RequestMetrics, operating=operating, routes=layout)],
    )
    app.state.services = services
    return app


async def _index(request: Request) -> Response:
    """Browsers get a page that links the console; programs (any other ``Accept``) get JSON."""
    console = str(request.base_url) + "console"
    openapi = [str(request.url_for(name)) for name in documents.NAMES]
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(index_page(__version__, console, openapi))
    return json_response({"name": "Helpline", "version": __version__, "console": console, "openapi": openapi})


async def _client_gone(request: Request, problem: Exception) -> Response:
    """A client that hangs up before its request body is in (or is cut off by the body timeout) is
    ordinary network life: one line at debug, not a traceback. Nobody is there to read the answer."""
    log.debug("%s: the client went away before its request was read", request.url.path)
    return Response(status_code=400)


async def _health(request: Request) -> Response:
    return json_response({"status": "ok"})
