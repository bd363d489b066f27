"""The ASGI app: Starlette, with a direct way in for requests whose route is known at once.

Starlette hands every request down a stack: the app, its server-error middleware, the metrics middleware,
its exception middleware (which builds a ``Request`` of its own), the router, a mount per path prefix and
the mount's router, each a coroutine frame and most a wrapper around ``send``. On a busy server that
stack was about a tenth of the CPU a chat message costs (py-spy under ``python -m bench``), for requests
that could have been matched by one dictionary lookup and one regular expression. So:

- an HTTP request whose path and method one route serves fully is handed to that route here, with the
  same scope keys the router would set (``route``, ``endpoint``, ``path_params``, ``router``, the
  exception handlers ``request_response`` looks up), counted by the same metrics, and answered with a
  plain 500 if it fails unhandled, as Starlette's server-error middleware would;
- a websocket handshake for a route with a literal path goes straight to that route's ASGI app: what an
  open socket keeps alive is only its own handler (see :mod:`helpline.web.sockets`);
- everything else (other methods, unknown paths, mounted apps, lifespan) goes through Starlette as before.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from helpline.web.operating import Answer, RequestMetrics
from helpline.web.routing import flatten

_Candidate = tuple[int, re.Pattern[str], dict[str, Any], Route]
ANY = "{}"  # the bucket key of a second segment that is a parameter


def _route_bucket(path: str) -> tuple[int, str, str] | None:
    """Routes that may match a path share its number of segments and its first segment (literal); the
    second is the literal one or :data:`ANY`. None for a route that may match elsewhere too."""
    segments = path.split("/")
    if len(segments) < 3 or "{" in segments[1] or ":path}" in path:
        return None
    return len(segments), segments[1], ANY if "{" in segments[2] else segments[2]


class _Table:
    """HTTP routes by bucket, with their full paths compiled (the router's own are relative to their
    mount) and their places in the router's order (the first that matches wins, as in the router)."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.buckets: dict[tuple[int, str, str], list[_Candidate]] = {}
        self.sockets: dict[str, ASGIApp] = {}
        self.complete = True  # False when some route could match paths of any bucket: then none is direct
        # A mount takes every path under its prefix, so a route beside it with a parameter where the
        # mount has its second segment is never reached for those paths: the table would reach it.
        mounted = {route.path.split("/")[1] for route in routes if isinstance(route, Mount)}
        for index, (path, route) in enumerate(flatten(routes)):
            if isinstance(route, WebSocketRoute):
                if "{" not in path:
                    self.sockets[path] = route.app
                continue
            if not isinstance(route, Route):
                continue
            key = _route_bucket(path)
            if key is None or (key[2] == ANY and key[1] in mounted):
                if "{" in path:
                    self.complete = False
                continue
            regex, _format, convertors = compile_path(path)
            self.buckets.setdefault(key, []).append((index, regex, convertors, route))

    def match(self, path: str, method: str) -> tuple[Route, dict[str, Any]] | None:
        segments = path.split("/")
        if len(segments) < 3 or not self.complete:
            return None
        exact = self.buckets.get((len(segments), segments[1], segments[2]), [])
        wild = self.buckets.get((len(segments), segments[1], ANY), [])
        candidates = sorted(exact + wild) if exact and wild else exact or wild
        for _index, regex, convertors, route in candidates:
            found = regex.match(path)
            if found is None:
                continue
            if route.methods and method not in route.methods:
                return None  # the router decides between a 405 and a later route
            return route, {name: convertors[name].convert(value) for name, value in found.groupdict().items()}
        return None


class App(Starlette):
    _direct: _Table
    _handlers: Any  # what the exception middleware puts in every scope (None: a stack of another shape)
    _metrics: RequestMetrics | None

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack, and beside it what the direct way needs of it, found once."""
        stack = super().build_middleware_stack()
        self._direct = _Table(self.routes)
        self._handlers, self._metrics = None, None
        layer: Any = stack
        while layer is not None and layer is not self.router:
            if isinstance(layer, ExceptionMiddleware):
                self._handlers = (layer._exception_handlers, layer._status_handlers)
            elif isinstance(layer, RequestMetrics):
                self._metrics = layer
            layer = getattr(layer, "app", None)
        return stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        if kind == "http" and not scope.get("root_path") and self._handlers is not None:
            matched = self._direct.match(scope["path"], scope["method"])
            if matched is not None:
                await self._direct_http(matched[0], matched[1], scope, receive, send)
                return
        elif kind == "websocket":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            socket_app = self._direct.sockets.get(path)
            if socket_app is not None:
                scope["app"] = self
                await socket_app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _direct_http(
        self, route: Route, params: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["app"] = self
        scope["router"] = self.router
        scope["starlette.exception_handlers"] = self._handlers
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        started = time.perf_counter()
        answer = Answer(send)
        try:
            await route.handle(scope, receive, answer)
        except Exception:
            if not answer.status:
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise  # the server logs it, as after Starlette's server-error middleware
        finally:
            if self._metrics is not None:
                self._metrics.count(
                    route, scope["method"], answer.status or 500, time.perf_counter() - started
                )
