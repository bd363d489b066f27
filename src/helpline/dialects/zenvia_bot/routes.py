"""The bot's calls: ``/core/api/v1/bot/{interaction_hash}/accept|message|transfer|finish``.

Each authenticates by the ``token`` of the body (an API token of the bot's account), does its whole change
in one unit of work, and answers ``{"message": "Message received successfully", "status": 200}``. Every
refusal is the seed's ``{"message": "<why>", "status": 422}`` with HTTP 422 (413 for an oversized body):
a bad token, an unknown interaction, one the bot no longer holds, bad fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from helpline.core import admin, bots
from helpline.core.errors import Invalid, Unauthorized
from helpline.core.model import Conversation, MessageKind
from helpline.core.values import parse_id, parse_url
from helpline.dialects.zenvia_bot.schema import (
    CONTENT_TYPES,
    INTERACTIVE_TYPES,
    SendMessage,
    TokenOnly,
    Transfer,
)
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import (
    Handler,
    guarded,
    json_response,
    reword,
)
from helpline.web.services import Services
from helpline.web.surface import ApiSurface

PREFIX = "/core/api/v1/bot"
RECEIVED = "Message received successfully"


# What the core calls a conversation, Zenvia's bot API calls an interaction (its refusals say so).
WORDS = {"conversation": "interaction"}


def error(status: int, message: str) -> Response:
    code = status if status in (405, 413) else 422
    return json_response({"message": reword(message, WORDS), "status": code}, code)


def ok() -> Response:
    return json_response({"message": RECEIVED, "status": 200})


def _url(value: str) -> str:
    parse_url(value, "attachment.url")
    return value.strip()


def _department_id(value: int | str | None) -> int | None:
    return None if value is None else parse_id(value, "department_id", "a number or null")


class ZenviaBot(ApiSurface):
    @staticmethod
    def _token(request: Request, body_token: str | None) -> str:
        token = body_token or request.query_params.get("token")
        if not token:
            raise Unauthorized("token is required")
        return token

    async def _act(
        self, request: Request, secret: str, act: Callable[[UnitOfWork, Conversation], Any]
    ) -> None:
        interaction_hash = request.path_params["hash"]

        def work(uow: UnitOfWork) -> None:
            token = admin.token_by_secret(uow, secret)
            act(uow, bots.held_conversation(uow, token.account_id, interaction_hash))

        await self.store.write(work)

    # -- PUT .../accept ----------------------------------------------------------------------------

    async def accept(self, request: Request) -> Response:
        body = await self._decode(request, TokenOnly)
        await self._act(request, self._token(request, body.token), bots.accept)
        return ok()

    # -- POST .../message --------------------------------------------------------------------------

    async def message(self, request: Request) -> Response:
        body = await self._decode(request, SendMessage)
        secret = self._token(request, body.token)
        if body.content is None:
            raise Invalid("content is required")
        content_type = (body.content_type or "text").strip().lower()
        if content_type not in CONTENT_TYPES + INTERACTIVE_TYPES:
            raise Invalid(
                f"content_type must be one of {', '.join(CONTENT_TYPES + INTERACTIVE_TYPES)} or null"
                f" (got {body.content_type!r})"
            )
        kind = MessageKind(content_type)
        interactive = content_type in INTERACTIVE_TYPES
        if body.content_attributes is not None and not interactive:
            raise Invalid("content_attributes are only for card, quick_reply and feedback messages")
        url = _url(body.attachment.url) if body.attachment and body.attachment.url else None
        if kind is MessageKind.TEXT and not body.content.strip():
            raise Invalid("content is required for a text message")
        if kind is not MessageKind.TEXT and not interactive and url is None:
            raise Invalid(f"attachment.url is required for a message of content_type {content_type}")
        idempotency_key = request.headers.get("idempotency-key")
        content = body.content
        attributes = body.content_attributes

        def act(uow: UnitOfWork, conversation: Conversation) -> None:
            bots.send_message(uow, conversation, content, kind, url, idempotency_key, attributes)

        await self._act(request, secret, act)
        return ok()

    # -- PUT .../transfer --------------------------------------------------------------------------

    async def transfer(self, request: Request) -> Response:
        body = await self._decode(request, Transfer)
        secret = self._token(request, body.token)
        department_id = _department_id(body.department_id)
        await self._act(request, secret, lambda uow, c: bots.transfer(uow, c, department_id))
        return ok()

    # -- PUT .../finish ----------------------------------------------------------------------------

    async def finish(self, request: Request) -> Response:
        body = await self._decode(request, TokenOnly)
        await self._act(request, self._token(request, body.token), bots.finish)
        return ok()


def routes(services: Services) -> list[BaseRoute]:
    api = ZenviaBot(services)
    table: list[tuple[str, Handler, str]] = [
        ("/{hash}/accept", api.accept, "PUT"),
        ("/{hash}/message", api.message, "POST"),
        ("/{hash}/transfer", api.transfer, "PUT"),
        ("/{hash}/finish", api.finish, "PUT"),
    ]
    return surface_routes(
        ((PREFIX + path, method, guarded(handler, error)) for path, handler, method in table), error
    )
