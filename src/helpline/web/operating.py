"""What an operator running several processes watches: ``/readyz`` and Prometheus ``/metrics``.

``/healthz`` says the process answers; ``/readyz`` says it can do its work: the database answers and, when
Redis is configured, the doorbell is subscribed (without it the process still delivers, by polling the log,
but slower: a load balancer or an alert should know). ``/metrics`` is per process (each has its own
registry); the figures read from the database at scrape time (outbox depth, deliveries by outcome, the
log's head) are the cluster's and the same on every process.

Per-request metrics sit on the hot path: the middleware does one dictionary lookup per request for its
label children (made once per route, method and status) and two cheap updates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline.core import events as ev
from helpline.core.model import Event
from helpline.realtime.doorbell import Doorbell, node_name
from helpline.realtime.hub import Hub
from helpline.store.base import Store
from helpline.store.statements import every
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.routing import flatten

READY_TIMEOUT = 2.0
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Operating:
    """The metrics of one process and the two routes that show its state."""

    def __init__(self, store: Store, hub: Hub, doorbell: Doorbell | None) -> None:
        self.store = store
        self.hub = hub
        self.doorbell = doorbell
        self.node = node_name()
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "helpline_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "helpline_request_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.message_seconds = Histogram(
            "helpline_message_latency_seconds",
            "From a message's commit (by any process) to its dispatch to this process's sockets",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StateCollector(self))
        hub.add_listener(self._dispatched)

    def _dispatched(self, events: list[Event]) -> None:
        now = time.time()
        for event in events:
            if event.type == ev.MESSAGE_CREATED:
                self.message_seconds.observe(max(0.0, now - event.created_at))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
        ]

    async def readyz(self, request: Request) -> Response:
        checks: dict[str, Any] = {"node": self.node, "last_seq": self.hub.last_seq}
        ready = True
        try:
            checks["log_seq"] = await asyncio.wait_for(
                self.store.read(lambda uow: uow.events.last_seq()), READY_TIMEOUT
            )
            checks["database"] = "ok"
        except Exception as problem:
            ready = False
            checks["database"] = f"down: {type(problem).__name__}: {problem}".strip()
        if self.doorbell is None:
            checks["redis"] = "not configured"
        elif self.doorbell.subscribed:
            checks["redis"] = "subscribed"
        else:
            ready = False
            checks["redis"] = "down: not subscribed (events from other processes arrive by polling)"
        checks["status"] = "ready" if ready else "unavailable"
        return JSONResponse(checks, status_code=200 if ready else 503)

    async def metrics(self, request: Request) -> Response:
        self._database = await self._read_database()
        return Response(generate_latest(self.registry), media_type=PROMETHEUS_TEXT)

    async def _read_database(self) -> dict[str, Any] | None:
        """Off the event loop: the deliveries are counted by state, and with a long delivery history that
        count takes longer than any request should wait (SQLite's reads otherwise run on the loop)."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.store.read_sync, _database_figures), READY_TIMEOUT
            )
        except Exception:
            return None

    _database: dict[str, Any] | None = None


def _database_figures(uow: UnitOfWork) -> dict[str, Any]:
    rows = every(
        uow.db,
        "SELECT e.kind AS kind, d.state AS state, COUNT(*) AS n FROM deliveries d"
        " JOIN endpoints e ON e.id = d.endpoint_id GROUP BY e.kind, d.state",
    )
    return {
        "log_seq": uow.events.last_seq(),
        "deliveries": [(r["kind"], r["state"], int(r["n"])) for r in rows],
    }


class _StateCollector(Collector):
    """Figures read at scrape time: sockets, the hub's lag, Redis, and what the database said."""

    def __init__(self, operating: Operating) -> None:
        self.operating = operating

    def collect(self) -> Iterable[Metric]:
        op = self.operating
        sockets = GaugeMetricFamily("helpline_websockets_open", "Websockets open, by kind", labels=["kind"])
        for kind, count in sorted(op.hub.counts_by_protocol().items()):
            sockets.add_metric([kind], count)
        yield sockets
        yield GaugeMetricFamily(
            "helpline_hub_seq", "The last sequence number this process dispatched", op.hub.last_seq
        )
        redis = GaugeMetricFamily(
            "helpline_redis_up", "1 when the Redis doorbell is subscribed (absent: not configured)"
        )
        if op.doorbell is not None:
            redis.add_metric([], 1.0 if op.doorbell.subscribed else 0.0)
        yield redis
        database = op._database
        yield GaugeMetricFamily(
            "helpline_database_up", "1 when the database answered this scrape", 0 if database is None else 1
        )
        if database is None:
            return
        yield GaugeMetricFamily(
            "helpline_log_seq", "The event log's last sequence number", database["log_seq"]
        )
        yield GaugeMetricFamily(
            "helpline_hub_lag_events",
            "Events committed to the log that this process has not dispatched yet",
            max(0, database["log_seq"] - op.hub.last_seq),
        )
        depth = GaugeMetricFamily(
            "helpline_outbox_depth",
            "Deliveries waiting to be sent (pending), by endpoint kind",
            labels=["kind"],
        )
        outcomes = GaugeMetricFamily(
            "helpline_deliveries",
            "Deliveries by endpoint kind and state (the cluster's)",
            labels=["kind", "state"],
        )
        for kind, state, count in database["deliveries"]:
            outcomes.add_metric([kind, state], count)
            if state == "pending":
                depth.add_metric([kind], count)
        yield depth
        yield outcomes


class Answer:
    """A request's ``send``, noting the status it answered with (0 until the response starts)."""

    __slots__ = ("send", "status")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)


class RequestMetrics:
    """ASGI middleware counting HTTP requests by route template (``/api/v1/interactions/{hash}/messages``,
    never the raw path: labels stay few) and status."""

    def __init__(self, app: ASGIApp, operating: Operating, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.operating = operating
        self.templates = {id(route): path for path, route in flatten(routes)}
        self._children: dict[tuple[int, str, int], tuple[Callable[[], None], Callable[[float], None]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = Answer(send)
        try:
            await self.app(scope, receive, answer)
        finally:
            self.count(
                scope.get("route"), scope["method"], answer.status or 500, time.perf_counter() - started
            )

    def count(self, route: Any, method: str, status: int, seconds: float) -> None:
        """One request answered (also called by ``web.app.App`` for the requests it routes itself)."""
        key = (id(route), method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = self._make(route, method, status)
        children[0]()
        children[1](seconds)

    def _make(
        self, route: Any, method: str, status: int
    ) -> tuple[Callable[[], None], Callable[[float], None]]:
        template = self.templates.get(id(route), "unmatched") if route is not None else "unmatched"
        counted = self.operating.requests.labels(template, method, str(status))
        timed = self.operating.request_seconds.labels(template)
        return counted.inc, timed.observe
