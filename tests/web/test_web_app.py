"""The app's direct way in answers exactly as Starlette's stack would, and is the way taken."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from helpline.web.app import App
from helpline.web.endpoints import SurfaceRoute
from helpline.web.operating import RequestMetrics
from helpline.web.routing import by_prefix


class Gone(Exception):
    pass


async def echo(request: Request) -> Response:
    return JSONResponse({"params": request.path_params, "path": request.url.path, "method": request.method})


async def broken(request: Request) -> Response:
    raise RuntimeError("a bug")


async def gone(request: Request) -> Response:
    raise Gone


async def gone_handler(request: Request, problem: Exception) -> Response:
    return JSONResponse({"gone": True}, status_code=410)


def refuse(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)


class Operating:
    """What the metrics middleware counts into."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("r", "r", ["route", "method", "status"], registry=self.registry)
        self.request_seconds = Histogram("s", "s", ["route"], registry=self.registry)

    def counted(self, route: str, method: str, status: str) -> float:
        value = self.registry.get_sample_value(
            "r_total", {"route": route, "method": method, "status": status}
        )
        return value or 0.0


def _routes() -> list[BaseRoute]:
    return by_prefix(
        [
            SurfaceRoute("/api/v1/things/{hash}/messages", {"POST": echo, "GET": echo}, refuse),
            SurfaceRoute("/api/v1/things/{hash}", {"GET": echo}, refuse),
            SurfaceRoute("/api/v1/things", {"POST": echo}, refuse),
            Route("/api/v2/plain/{id:int}", echo, methods=["GET"]),
            Route("/files/{key}/{name}", echo, methods=["GET"]),
            Route("/files/{key}/x", echo, methods=["GET"]),  # never reached: the one before takes its paths
            Route("/files/named/{name}", echo, methods=["GET"]),
            Route("/api/v2/broken", broken, methods=["GET"]),
            Route("/api/v2/gone", gone, methods=["GET"]),
        ]
    )


def _app(cls: type[Starlette], operating: Operating) -> Starlette:
    routes = _routes()
    return cls(
        routes=routes,
        exception_handlers={Gone: gone_handler},
        middleware=[Middleware(RequestMetrics, operating=operating, routes=routes)],
    )


def _ask(app: Starlette, method: str, path: str, **extra: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **extra)

    return asyncio.run(go())


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/things/abc/messages", {"json": {"a": 1}}),
    ("GET", "/api/v1/things/abc/messages", {}),
    ("HEAD", "/api/v1/things/abc/messages", {}),
    ("DELETE", "/api/v1/things/abc/messages", {}),  # the surface's own 405
    ("GET", "/api/v1/things/abc", {}),
    ("POST", "/api/v1/things", {}),
    ("GET", "/api/v1/nothing/here", {}),  # 404
    ("GET", "/api/v2/plain/12", {}),
    ("GET", "/api/v2/plain/x", {}),  # no match for the int convertor: 404
    ("POST", "/api/v2/plain/12", {}),  # Starlette's 405
    ("GET", "/files/k/x", {}),
    ("GET", "/files/named/n", {}),  # the route with a parameter comes first in the table
    ("GET", "/api/v2/broken", {}),  # 500
    ("GET", "/api/v2/gone", {}),  # the app's exception handler
]


@pytest.mark.parametrize(("method", "path", "extra"), REQUESTS)
def test_every_answer_is_the_one_starlette_gives(method: str, path: str, extra: dict[str, Any]) -> None:
    ours, theirs = Operating(), Operating()
    mine = _ask(_app(App, ours), method, path, **extra)
    its = _ask(_app(Starlette, theirs), method, path, **extra)
    assert (mine.status_code, mine.content) == (its.status_code, its.content)
    assert {k: v for k, v in mine.headers.items() if k != "date"} == {
        k: v for k, v in its.headers.items() if k != "date"
    }
    status = str(mine.status_code)
    template = "unmatched" if status == "404" else path.replace("abc", "{hash}").replace("/12", "/{id:int}")
    if path.startswith("/files/"):
        template = "/files/{key}/{name}"
    assert ours.counted(template, method, status) == theirs.counted(template, method, status) == 1.0


def test_a_route_served_for_its_method_is_taken_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _app(App, Operating())
    taken: list[str] = []
    original = App._direct_http

    async def counting(self: App, route: Route, *args: Any) -> None:
        taken.append(route.path)
        await original(self, route, *args)

    monkeypatch.setattr(App, "_direct_http", counting)
    assert _ask(app, "POST", "/api/v1/things/abc/messages").json()["params"] == {"hash": "abc"}
    assert _ask(app, "GET", "/api/v2/plain/7").json()["params"] == {"id": 7}
    assert _ask(app, "GET", "/files/named/n").json()["params"] == {"key": "named", "name": "n"}
    _ask(app, "DELETE", "/api/v1/things/abc/messages")  # not served for DELETE: Starlette's way
    assert taken == ["/things/{hash}/messages", "/plain/{id:int}", "/files/{key}/{name}"]


def test_a_route_with_a_parameter_beside_a_mount_of_its_first_segment_turns_the_direct_way_off() -> None:
    """The mount would take ``/api/v1/x`` and answer 404 where the table would find the other route."""
    from helpline.web.app import _Table

    mounted = by_prefix([Route(f"/api/v1/{name}", echo) for name in ("a", "b", "c")])
    assert _Table(mounted).complete
    assert not _Table([*mounted, Route("/api/{version}/x", echo)]).complete
