"""Browsers and abuse at the SDK's door: CORS for the inbox's allowed origins, the ``/ws`` handshake's
``Origin`` check, and rate limits — wrapped around the SDK's routes, which stay as they are.

A request without an ``Origin`` (an app, a server, a same-origin page) passes untouched. From another
origin, the inbox is found by the ``access_token``, else by ``?inbox=`` / ``X-Inbox-Identifier``, else the
only inbox there is; if the operator did not list that origin for it, the request is refused with 403
before anything happens, and the refusal carries ``Access-Control-Allow-Origin`` so the page's widget can
read it and tell the customer ("This chat is not enabled for this site") instead of failing silently.
Only answers to allowed origins carry CORS headers otherwise. A preflight (``OPTIONS``) names no token, so
it is judged by ``?inbox=`` (the widget always sends it), or by whether any open inbox admits the origin.

Rate limits are token buckets in this process (so per process): new conversations per client address and
per inbox, messages per contact; past them the answer is 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline.core import channel, widget
from helpline.core.errors import DomainError
from helpline.core.widget import WidgetSettings
from helpline.dialects.novatalks.requests import error
from helpline.dialects.novatalks.routes import PREFIX
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import SurfaceRoute
from helpline.web.http import Handler
from helpline.web.ratelimit import RateLimiter
from helpline.web.services import Services

ALLOWED_HEADERS = "content-type, access_token, access-token, x-inbox-identifier, idempotency-key"
MAX_AGE = "600"
CONVERSATIONS = PREFIX + "/conversations"
MESSAGES = PREFIX + "/conversations/messages"
REFUSED = "this chat is not enabled for this site ({origin}): the inbox's operator has not allowed it"


def _secret(connection: HTTPConnection) -> str | None:
    return (
        connection.headers.get("access_token")
        or connection.headers.get("access-token")
        or connection.query_params.get("access_token")
    )


def _identifier(connection: HTTPConnection) -> str | None:
    return connection.query_params.get("inbox") or connection.headers.get("x-inbox-identifier")


def _same_origin(connection: HTTPConnection, origin: str, public_url: str) -> bool:
    host = connection.headers.get("host", "")
    scheme = "https" if connection.url.scheme in ("https", "wss") else "http"
    return origin in (f"{scheme}://{host}", public_url)


def _cors(origin: str) -> dict[str, str]:
    return {
        "access-control-allow-origin": origin,
        "access-control-expose-headers": "retry-after",
        "vary": "Origin",
    }


class Doorman:
    def __init__(self, services: Services) -> None:
        self.store = services.store
        settings = services.settings
        self.public_url = settings.resolved_public_url()
        self.per_address = RateLimiter(settings.sdk_conversations_per_address)
        self.per_inbox = RateLimiter(settings.sdk_conversations_per_inbox)
        self.per_contact = RateLimiter(settings.sdk_messages_per_contact)

    # -- which inbox, and does it admit this origin ------------------------------------------------

    def _widget_of(
        self, uow: UnitOfWork, secret: str | None, identifier: str | None
    ) -> WidgetSettings | None:
        """The widget settings of the inbox this request is for; None when that cannot be told."""
        try:
            if secret:
                department_id = channel.token_by_secret(uow, secret).department_id
            elif identifier:
                found = uow.sdk.inboxes.by_identifier(identifier)
                if found is None:
                    return None
                department_id = found.department_id
            else:
                enabled = uow.sdk.inboxes.enabled()
                if len(enabled) != 1:
                    return None
                department_id = enabled[0].department_id
        except DomainError:
            return None
        return uow.widget.get(department_id) or WidgetSettings(department_id)

    async def admits(self, connection: HTTPConnection, origin: str) -> bool | None:
        """True/False for the request's inbox; None when no inbox can be told (the API refuses it)."""
        secret, identifier = _secret(connection), _identifier(connection)
        found = await self.store.read(lambda uow: self._widget_of(uow, secret, identifier))
        return None if found is None else found.allows(origin)

    def cross_origin(self, connection: HTTPConnection) -> str | None:
        origin = connection.headers.get("origin")
        if not origin or _same_origin(connection, origin, self.public_url):
            return None
        return origin

    # -- REST --------------------------------------------------------------------------------------

    def wrap(self, handler: Handler, path: str, method: str) -> Handler:
        limited = self._limits(handler, path, method)

        async def run(request: Request) -> Response:
            origin = self.cross_origin(request)
            if origin is None:
                return await limited(request)
            if await self.admits(request, origin) is False:
                refusal = error(403, REFUSED.format(origin=origin))
                refusal.headers.update(_cors(origin))
                return refusal
            response = await limited(request)
            response.headers.update(_cors(origin))
            return response

        return run

    async def preflight(self, request: Request) -> Response:
        origin = self.cross_origin(request)
        if origin is None:
            return Response(status_code=204)
        identifier = _identifier(request)
        if identifier:
            allowed = await self.admits(request, origin)
        else:
            allowed = await self.store.read(lambda uow: widget.origin_allowed_anywhere(uow, origin))
        if not allowed:
            return error(403, REFUSED.format(origin=origin))
        headers = _cors(origin) | {
            "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": MAX_AGE,
        }
        return Response(status_code=204, headers=headers)

    def _limits(self, handler: Handler, path: str, method: str) -> Handler:
        if method != "POST" or path not in (CONVERSATIONS, MESSAGES):
            return handler

        async def limited(request: Request) -> Response:
            if path == CONVERSATIONS:
                address = request.client.host if request.client else "?"
                wait = self.per_address.take(address) or self.per_inbox.take(_identifier(request) or "")
                what = "new conversations"
            else:
                secret = _secret(request) or ""
                wait = self.per_contact.take(hashlib.sha256(secret.encode()).hexdigest())
                what = "messages"
            if wait:
                seconds = max(1, math.ceil(wait))
                refusal = error(429, f"too many {what}: try again in {seconds} s")
                refusal.headers["retry-after"] = str(seconds)
                return refusal
            return await handler(request)

        return limited

    # -- the websocket -----------------------------------------------------------------------------

    def socket(self, inner: ASGIApp) -> GuardedSocket:
        return GuardedSocket(self, inner)


class GuardedSocket:
    """An SDK websocket (a plain ASGI app) behind an Origin check at the handshake and again when the
    client subscribes (the token's inbox must admit the page's origin too). A class, so Starlette hands
    it the raw ASGI connection."""

    def __init__(self, doorman: Doorman, app: ASGIApp) -> None:
        self.doorman = doorman
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = await self._origin(scope, receive, send)
        if origin is False:
            return
        if origin is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, _CheckedReceive(self.doorman, origin, receive, send), send)

    async def _origin(self, scope: Scope, receive: Receive, send: Send) -> str | Literal[False] | None:
        """The page's origin to check at subscribe; None when there is none to check; False when the
        handshake was refused (a coroutine of its own: the parsed headers do not outlive the handshake)."""
        doorman = self.doorman
        connection = HTTPConnection(scope)
        origin = doorman.cross_origin(connection)
        if origin is None:
            return None
        if _identifier(connection):
            allowed = await doorman.admits(connection, origin)
        else:
            allowed = await doorman.store.read(lambda uow: widget.origin_allowed_anywhere(uow, origin))
        if not allowed:
            await receive()  # websocket.connect; closing now refuses the handshake (HTTP 403)
            await send({"type": "websocket.close", "code": 4403, "reason": "origin not allowed"})
            return False
        return origin


class _CheckedReceive:
    """The socket's ``receive``, refusing the first subscribe frame whose token's inbox does not admit the
    page's origin (a slotted object rather than a closure: it lives as long as the socket)."""

    __slots__ = ("checked", "doorman", "origin", "receive", "send")

    def __init__(self, doorman: Doorman, origin: str, receive: Receive, send: Send) -> None:
        self.doorman = doorman
        self.origin = origin
        self.receive = receive
        self.send = send
        self.checked = False

    async def __call__(self) -> Message:
        message = await self.receive()
        if self.checked or message["type"] != "websocket.receive":
            return message
        secret = _subscribe_token(message.get("text") or message.get("bytes"))
        if secret is None:
            return message
        self.checked = True
        doorman = self.doorman
        found = await doorman.store.read(lambda uow: doorman._widget_of(uow, secret, None))
        if found is not None and not found.allows(self.origin):
            reason = "this chat is not enabled for this site"
            await self.send({"type": "websocket.close", "code": 4403, "reason": reason})
            return {"type": "websocket.disconnect", "code": 4403}
        return message


def _subscribe_token(raw: str | bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        frame: Any = json.loads(raw)
    except ValueError:
        return None
    if (
        not isinstance(frame, dict)
        or frame.get("event") != "subscribe"
        or not isinstance(frame.get("data"), dict)
    ):
        return None
    token = frame["data"].get("pubsub_token")
    return token if isinstance(token, str) and token else None


def wrap(routes: list[BaseRoute], services: Services) -> list[BaseRoute]:
    """The SDK's routes behind the doorman, with a preflight route for each of their paths."""
    doorman = Doorman(services)
    wrapped: list[BaseRoute] = []
    paths: list[str] = []
    for route in routes:
        if isinstance(route, SurfaceRoute):  # keeps the SDK's own 405 (and Allow) for other methods
            handlers = {m: doorman.wrap(h, route.path, m) for m, h in route.handlers.items()}
            wrapped.append(SurfaceRoute(route.path, handlers, route.render_error, route.name))
            if route.path not in paths:
                paths.append(route.path)
        elif isinstance(route, Route):
            methods = sorted((route.methods or set()) - {"HEAD"})
            for method in methods:
                endpoint = doorman.wrap(route.endpoint, route.path, method)
                wrapped.append(Route(route.path, endpoint, methods=[method]))
            if route.path not in paths:
                paths.append(route.path)
        elif isinstance(route, WebSocketRoute):
            wrapped.append(WebSocketRoute(route.path, doorman.socket(route.app)))
        else:
            wrapped.append(route)
    wrapped += [Route(path, doorman.preflight, methods=["OPTIONS"]) for path in paths]
    return wrapped
