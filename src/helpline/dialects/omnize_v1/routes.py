"""ClientApi V1 endpoints, served under both ``/api/v1`` (the seed) and ``/core/api/v1`` (later docs).

Every handler authenticates by the ``token`` of the body (or query), does its whole change in one unit of
work, and answers in the seed's words; every refusal is ``{"message": ..., "status": N}`` with status N.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from helpline.core import admin, conversations
from helpline.core.conversations import ContactDetails, StartConversation
from helpline.core.errors import Invalid, Unauthorized
from helpline.core.model import Actor, ActorType, Agent, Conversation, Department
from helpline.core.values import parse_id, parse_url
from helpline.dialects.omnize_v1 import DIALECT
from helpline.dialects.omnize_v1.schema import (
    MEDIA_TYPES,
    MOODS,
    SendMessage,
    StartInteraction,
    TokenOnly,
    UpdateInteraction,
    message_kind,
)
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import (
    Handler,
    decode_json,
    guarded,
    json_response,
    read_body,
    reword,
)
from helpline.web.services import Services
from helpline.web.surface import ApiSurface

PREFIXES = ("/api/v1", "/core/api/v1")


# What the core calls a conversation, Omnize calls an interaction (its refusals say so).
WORDS = {"conversation": "interaction"}


def error(status: int, message: str) -> Response:
    return json_response({"message": reword(message, WORDS), "status": status}, status)


def ok(message: str) -> Response:
    return json_response({"message": message, "status": 200})


def _date(value: float | None) -> str | None:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(value)) if value else None


def _url(value: str, field: str) -> str:
    candidate = value.strip()
    if "://" not in candidate:
        candidate = "https://" + candidate
    parse_url(candidate, field)
    return candidate


class OmnizeV1(ApiSurface):
    empty_body = "request body must be a JSON object"

    @staticmethod
    def _token(request: Request, body_token: str | None) -> str:
        token = body_token or request.query_params.get("token")
        if not token:
            raise Unauthorized("token is required")
        return token

    # -- GET /departments ------------------------------------------------------------------------

    async def departments(self, request: Request) -> Response:
        secret = self._token(request, None)

        def work(uow: UnitOfWork) -> list[dict[str, Any]]:
            token = admin.token_by_secret(uow, secret)
            listed = []
            for department in uow.departments.list(token.account_id):
                members = [a for a in uow.agents.list(token.account_id) if department.id in a.department_ids]
                listed.append(_department_view(department, members))
            return listed

        return json_response(await self.store.read(work))

    # -- POST /interactions ----------------------------------------------------------------------

    async def start(self, request: Request) -> Response:
        body = await self._decode(request, StartInteraction)
        secret = self._token(request, body.token)
        if body.department_id is None:
            raise Invalid("department_id is required")
        department_id = parse_id(body.department_id, "department_id")
        media_type = (body.media_type or "TEXT").upper()
        if media_type not in MEDIA_TYPES:
            raise Invalid(f"media_type must be one of {', '.join(MEDIA_TYPES)} (got {body.media_type!r})")
        history_url = _url(body.external_history, "external_history") if body.external_history else None
        customer = body.customer
        contact = ContactDetails(
            name=customer.name if customer else None,
            email=customer.email if customer else None,
            phone=customer.phone if customer else None,
            document=customer.cpf if customer else None,
            attributes={"media_type": media_type},
        )

        def work(uow: UnitOfWork) -> str:
            token = admin.token_by_secret(uow, secret)
            conversation = conversations.start_conversation(
                uow,
                StartConversation(
                    account_id=token.account_id,
                    department_id=department_id,
                    origin_dialect=DIALECT,
                    origin_token_id=token.id,
                    contact=contact,
                    extra=body.extra or {},
                    external_history_url=history_url,
                ),
            )
            return conversation.hash

        interaction_hash = await self.store.write(work)
        return json_response(
            {"message": "Interaction created successfully", "data": {"interaction_hash": interaction_hash}}
        )

    # -- POST /interactions/{hash}/messages ------------------------------------------------------

    async def send_message(self, request: Request) -> Response:
        body = await self._decode(request, SendMessage)
        secret = self._token(request, body.token)
        kind = message_kind(body.type)
        if kind is None:
            raise Invalid(
                f"type must be text, image, video, audio, file or a MIME type such as image/png (got {body.type!r})"
            )
        content = body.content or ""
        if kind.value == "text" and not content.strip():
            raise Invalid("content is required for a text message")
        url = _url(body.url, "url") if body.url else None
        if kind.value != "text" and url is None:
            raise Invalid(f"url is required for a message of type {body.type}")
        interaction_hash = request.path_params["hash"]
        idempotency_key = request.headers.get("idempotency-key")

        def work(uow: UnitOfWork) -> str:
            token = admin.token_by_secret(uow, secret)
            message = conversations.contact_message_by_hash(
                uow, token.account_id, interaction_hash, content, kind, url, idempotency_key
            )
            return message.hash

        message_hash = await self.store.write(work)
        return json_response(
            {
                "message": "Message created successfully",
                "data": {"message_hash": message_hash, "interaction_hash": interaction_hash},
                "status": 200,
            }
        )

    # -- PUT /interactions/{hash}/typing|cleared|finish ------------------------------------------

    async def _contact_signal(
        self, request: Request, act: Callable[[UnitOfWork, Conversation], object]
    ) -> None:
        body = await self._decode_optional(request)
        secret = self._token(request, body.token)
        interaction_hash = request.path_params["hash"]

        def work(uow: UnitOfWork) -> None:
            token = admin.token_by_secret(uow, secret)
            act(uow, conversations.conversation_by_hash(uow, token.account_id, interaction_hash))

        await self.store.write(work)

    async def _decode_optional(self, request: Request) -> TokenOnly:
        raw = await read_body(request, self.limit)
        if not raw.strip():
            return TokenOnly()
        return decode_json(raw, TokenOnly)

    async def typing(self, request: Request) -> Response:
        await self._contact_signal(request, lambda uow, c: conversations.contact_typing(uow, c, True))
        return ok("Typing sent successfully")

    async def cleared(self, request: Request) -> Response:
        await self._contact_signal(request, lambda uow, c: conversations.contact_typing(uow, c, False))
        return ok("Cleared sent successfully")

    async def finish(self, request: Request) -> Response:
        await self._contact_signal(request, conversations.contact_finish)
        return ok("Finish sent successfully")

    # -- PUT /interactions/{hash} ----------------------------------------------------------------

    async def update(self, request: Request) -> Response:
        body = await self._decode(request, UpdateInteraction)
        secret = self._token(request, body.token)
        changes: dict[str, Any] = {}
        if body.mood is not None:
            mood = body.mood.upper()
            if mood not in MOODS:
                raise Invalid(f"mood must be POSITIVE or NEGATIVE (got {body.mood!r})")
            changes["mood"] = mood
        if body.tag_ids is not None:
            changes["tags"] = body.tag_ids
        if body.customer_key is not None:
            changes["customer_key"] = body.customer_key
        if body.note is not None:
            changes["note"] = body.note
        interaction_hash = request.path_params["hash"]

        def work(uow: UnitOfWork) -> None:
            token = admin.token_by_secret(uow, secret)
            conversation = conversations.conversation_by_hash(uow, token.account_id, interaction_hash)
            conversations.update_details(
                uow, conversation, changes, Actor(ActorType.CONTACT, conversation.contact_id)
            )

        await self.store.write(work)
        return ok("Interaction updated successfully")

    # -- GET /agents/online ----------------------------------------------------------------------

    async def agents_online(self, request: Request) -> Response:
        secret = self._token(request, None)
        raw_department = request.query_params.get("department_id")
        department_id = parse_id(raw_department, "department_id") if raw_department else None

        def work(uow: UnitOfWork) -> dict[str, Any]:
            token = admin.token_by_secret(uow, secret)
            if department_id is not None and uow.departments.get(token.account_id, department_id) is None:
                raise Invalid(f"department {department_id} does not exist")
            online = uow.agents.online(token.account_id, department_id)
            average = uow.conversations.average_answer_seconds(token.account_id, department_id, 100)
            shown: list[Agent] = random.sample(online, min(3, len(online)))
            return {
                "agents": [{"id": a.id, "name": a.name, "photo": a.photo_url} for a in shown],
                "averageService": round(average) if average is not None else 0,
                "count": len(online),
                "status": 200,
            }

        return json_response(await self.store.read(work))


def _department_view(department: Department, members: list[Any]) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "ringing_max_time": department.ringing_max_time,
        "queued_max_time": department.queued_max_time,
        "queue": department.queue_enabled,
        "bot_id": department.bot_endpoint_id if department.bot_url else None,
        "queue_position_time": None,
        "date_creation": _date(department.created_at),
        "change_date": _date(department.updated_at),
        "state": 1 if department.active else 0,
        "agents": [{"id": a.id, "name": a.name, "photo": a.photo_url} for a in members],
        "channels": [],
    }


def routes(services: Services) -> list[BaseRoute]:
    api = OmnizeV1(services)
    table: list[tuple[str, Handler, str]] = [
        ("/departments", api.departments, "GET"),
        ("/interactions", api.start, "POST"),
        ("/interactions/{hash}/messages", api.send_message, "POST"),
        ("/interactions/{hash}/typing", api.typing, "PUT"),
        ("/interactions/{hash}/cleared", api.cleared, "PUT"),
        ("/interactions/{hash}/finish", api.finish, "PUT"),
        ("/interactions/{hash}", api.update, "PUT"),
        ("/agents/online", api.agents_online, "GET"),
    ]
    return surface_routes(
        (
            (prefix + path, method, guarded(handler, error))
            for prefix in PREFIXES
            for path, handler, method in table
        ),
        error,
    )
