"""Console sign-in: a session cookie backed by a stored token hash, accepted beside the Bearer API key.

Signing in with email and password sets ``helpline_session``: a random token (HttpOnly, so page scripts
never see it; SameSite=Strict, so other sites' pages never send it; expiring after ``SESSION_SECONDS``).
Only its SHA-256 is stored, in ``console_sessions``; signing out deletes it.

A browser attaches the cookie on its own, so a request it authenticates must come from our own pages:
a request that changes something is refused when its ``Origin`` names another site, and the websocket,
whose handshake always carries ``Origin``, is refused unless it names this server. Requests with
``Authorization: Bearer <api_key>`` (agents' own tools) are not browser-driven and skip that check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from helpline.agent_api import views
from helpline.agent_api.schema import Login
from helpline.config import Settings
from helpline.core import agents
from helpline.core.credentials import new_token, token_hash, verify_password
from helpline.core.errors import Forbidden, Unauthorized
from helpline.core.model import Agent
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.http import decode_json, json_response, read_body
from helpline.web.services import Services

COOKIE = "helpline_session"
SESSION_SECONDS = 12 * 3600  # one working day; then the console asks to sign in again
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MISSING = "send your API key as 'Authorization: Bearer <api_key>', or sign in to the console"


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request presented: an agent's API key, or the console's session cookie."""

    kind: Literal["api_key", "session"]
    secret: str


def credential(
    headers: Mapping[str, str], query: Mapping[str, str], cookies: Mapping[str, str]
) -> Credential | None:
    """The Bearer header (or ``?api_key=``) wins over the cookie; None when neither is there."""
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return Credential("api_key", header[7:].strip())
    if query.get("api_key"):
        return Credential("api_key", str(query["api_key"]))
    if cookies.get(COOKIE):
        return Credential("session", cookies[COOKIE])
    return None


def same_origin(headers: Mapping[str, str], settings: Settings) -> bool:
    """Whether ``Origin`` names this server: the host the request was sent to, or the public URL."""
    origin = headers.get("origin", "")
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    host = headers.get("host", "").lower()
    if parts.netloc.lower() == host:
        return True
    public = settings.public_url.rstrip("/")
    return bool(public) and origin.rstrip("/").lower() == public.lower()


def request_credential(request: Request, settings: Settings) -> Credential:
    """The request's credential, or a refusal: none at all (401), or a cookie sent from another site (403)."""
    found = credential(request.headers, request.query_params, request.cookies)
    if found is None:
        raise Unauthorized(MISSING)
    if (
        found.kind == "session"
        and request.method not in SAFE_METHODS
        and "origin" in request.headers
        and not same_origin(request.headers, settings)
    ):
        raise Forbidden("refused: this request came from another site's page")
    return found


def agent_for(uow: UnitOfWork, found: Credential) -> Agent:
    """The agent behind a credential; an unknown key or an expired or signed-out session is 401."""
    if found.kind == "api_key":
        return agents.agent_by_api_key(uow, found.secret)
    agent_id = uow.console_sessions.agent_id(token_hash(found.secret), uow.now)
    agent = uow.agents.get(agent_id) if agent_id is not None else None
    if agent is None:
        raise Unauthorized("your session has ended; sign in again")
    return agent


@dataclass(slots=True)
class StartedSession:
    agent: Agent
    token: str
    expires_at: float


class Sessions:
    """``POST /session`` signs in (sets the cookie), ``DELETE /session`` signs out (forgets it)."""

    def __init__(self, services: Services) -> None:
        self.store = services.store
        self.settings = services.settings

    async def sign_in(self, request: Request) -> Response:
        raw = await read_body(request, self.settings.max_body_bytes)
        body = decode_json(raw or b"{}", Login)
        if "origin" in request.headers and not same_origin(request.headers, self.settings):
            raise Forbidden("refused: this sign-in came from another site's page")
        email = body.email.strip().lower()
        agent = await self.store.read(lambda uow: uow.agents.by_email(email))
        # argon2 is slow on purpose: verify off the event loop and outside the writer.
        if agent is None or not await asyncio.to_thread(verify_password, agent.password_hash, body.password):
            raise Unauthorized("wrong email or password")
        token = new_token("hls_")

        def start(uow: UnitOfWork) -> StartedSession:
            uow.console_sessions.delete_expired(uow.now)
            expires_at = uow.now + SESSION_SECONDS
            uow.console_sessions.create(agent.id, token_hash(token), uow.now, expires_at)
            return StartedSession(agent, token, expires_at)

        started = await self.store.write(start)
        response = json_response({"agent": views.agent_view(agent), "expires_at": started.expires_at})
        response.set_cookie(
            COOKIE,
            started.token,
            max_age=SESSION_SECONDS,
            path="/",
            secure=_is_https(request),
            httponly=True,
            samesite="strict",
        )
        response.headers["cache-control"] = "no-store"
        return response

    async def sign_out(self, request: Request) -> Response:
        """Ends the cookie's session; a caller with no credential at all is refused like anywhere else."""
        found = request_credential(request, self.settings)
        token = request.cookies.get(COOKIE)
        if found.kind == "api_key" and not token:
            await self.store.read(lambda uow: agent_for(uow, found))  # a bad key is 401, not a sign-out
        if token:
            if "origin" in request.headers and not same_origin(request.headers, self.settings):
                raise Forbidden("refused: this sign-out came from another site's page")
            await self.store.write(lambda uow: uow.console_sessions.delete(token_hash(token)))
        response = json_response({"signed_out": True})
        response.delete_cookie(COOKIE, path="/", secure=_is_https(request), httponly=True, samesite="strict")
        return response


def _is_https(request: Request) -> bool:
    forwarded: Any = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or str(forwarded).lower() == "https"
