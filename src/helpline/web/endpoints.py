"""One route per path for a surface, dispatching on the method; other methods get the surface's own 405.

Starlette answers a method a path does not serve with a plain-text 405 naming the methods of whichever
route of that path came first. A surface's clients expect its error shape everywhere, and the ``Allow``
header must list every method the path serves, so each path is one :class:`SurfaceRoute`.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from helpline.web.http import ErrorRenderer, Handler


class SurfaceRoute(Route):
    def __init__(
        self, path: str, handlers: dict[str, Handler], render_error: ErrorRenderer, name: str | None = None
    ) -> None:
        self.handlers = dict(handlers)
        self.render_error = render_error
        if len(self.handlers) == 1:
            endpoint = next(iter(self.handlers.values()))
        else:
            table = self.handlers

            async def endpoint(request: Request) -> Response:
                handler = table.get(request.method) or table["GET"]  # HEAD is served as GET
                return await handler(request)

        super().__init__(path, endpoint, methods=list(self.handlers), name=name)

    def with_path(self, path: str) -> SurfaceRoute:
        """The same route at another path (under a Mount, see :mod:`helpline.web.routing`)."""
        return SurfaceRoute(path, self.handlers, self.render_error, self.name)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allow = ", ".join(m for m in self.handlers)
            response = self.render_error(
                405, f"method {scope['method']} is not allowed here; this path serves {allow}"
            )
            response.headers["allow"] = allow
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)


def surface_routes(table: Iterable[tuple[str, str, Handler]], render_error: ErrorRenderer) -> list[BaseRoute]:
    """``(path, method, handler)`` rows → one :class:`SurfaceRoute` per path, in first-seen order."""
    by_path: dict[str, dict[str, Handler]] = {}
    for path, method, handler in table:
        by_path.setdefault(path, {})[method] = handler
    return [SurfaceRoute(path, handlers, render_error) for path, handlers in by_path.items()]
