"""``POST /api/rest/v1`` (also ``/client-gateway/api/rest/v1``): one endpoint for everything a customer app does.

Dispatched on ``type`` and ``content``: ``info``+``init`` starts (or, for a ``clientId`` that already has an
open conversation with this token, returns) a conversation; ``message`` sends ``content``; ``info`` with
``typing``, ``cleared`` or ``finish``; ``info``+``departments`` lists departments. Every refusal is
``{"message": "<what is wrong>", "status": N}`` with HTTP status N.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from helpline.core import admin, conversations
from helpline.core.conversations import ContactDetails, StartConversation
from helpline.core.errors import Invalid, NotFound, Unauthorized
from helpline.core.model import ApiToken, Conversation
from helpline.core.values import parse_id
from helpline.dialects.omnize_rest import DIALECT
from helpline.dialects.omnize_rest.schema import INFO_CONTENTS, TYPES, RestRequest
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import guarded, json_response
from helpline.web.services import Services
from helpline.web.surface import ApiSurface

PATHS = ("/api/rest/v1", "/client-gateway/api/rest/v1")


def error(status: int, message: str) -> Response:
    return json_response({"message": message, "status": status}, status)


def ok(message: str, **fields: Any) -> Response:
    return json_response({"message": message, "status": 200, **fields})


def client_key(body: RestRequest) -> str:
    """The customer's ``clientId`` as the conversation's key (``12`` and ``"12"`` are the same customer)."""
    value = body.clientId
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid("clientId is required")
    return str(value).strip()


def _department_id(value: int | str | None) -> int:
    if value is None:
        raise Invalid("departmentId is required to start an interaction")
    return parse_id(value, "departmentId")


class OmnizeRest(ApiSurface):
    empty_body = "request body must be a JSON object with token, type and content"

    async def handle(self, request: Request) -> Response:
        body = await self._decode(request, RestRequest)
        if not body.token:
            raise Unauthorized("token is required")
        if not body.type:
            raise Invalid(f"type is required: one of {', '.join(TYPES)}")
        kind = body.type.strip().lower()
        if kind not in TYPES:
            raise Invalid(f"type must be one of {', '.join(TYPES)} (got {body.type!r})")
        if kind == "message":
            return await self.message(request, body)
        content = (body.content or "").strip().lower()
        if content not in INFO_CONTENTS:
            raise Invalid(
                f"content of an info request must be one of {', '.join(INFO_CONTENTS)} (got {body.content!r})"
            )
        if content == "departments":
            return await self.departments(body.token)
        if content == "init":
            return await self.init(body)
        signals: dict[str, tuple[Callable[[UnitOfWork, Conversation], object], str]] = {
            "typing": (lambda uow, c: conversations.contact_typing(uow, c, True), "Typing sent successfully"),
            "cleared": (
                lambda uow, c: conversations.contact_typing(uow, c, False),
                "Cleared sent successfully",
            ),
            "finish": (conversations.contact_finish, "Finish sent successfully"),
        }
        act, said = signals[content]
        await self._on_open(body, act)
        return ok(said)

    async def _on_open(self, body: RestRequest, act: Callable[[UnitOfWork, Conversation], Any]) -> Any:
        assert body.token is not None
        secret = body.token
        key = client_key(body)

        def work(uow: UnitOfWork) -> Any:
            token = admin.token_by_secret(uow, secret)
            return act(uow, open_conversation(uow, token, key))

        return await self.store.write(work)

    # -- info: init --------------------------------------------------------------------------------

    async def init(self, body: RestRequest) -> Response:
        assert body.token is not None
        secret = body.token
        key = client_key(body)
        department_id = _department_id(body.departmentId)
        contact = ContactDetails(
            name=body.customerName,
            email=body.customerEmail,
            phone=body.customerPhone,
            document=body.customerCpf,
        )

        def work(uow: UnitOfWork) -> tuple[Conversation, bool]:
            token = admin.token_by_secret(uow, secret)
            return conversations.start_or_resume(
                uow,
                StartConversation(
                    account_id=token.account_id,
                    department_id=department_id,
                    origin_dialect=DIALECT,
                    origin_token_id=token.id,
                    origin_key=key,
                    contact=contact,
                    extra={"clientId": body.clientId},
                ),
            )

        conversation, started = await self.store.write(work)
        said = "Interaction created successfully" if started else "Interaction already open"
        return ok(said, clientId=body.clientId, interactionHash=conversation.hash)

    # -- message -----------------------------------------------------------------------------------

    async def message(self, request: Request, body: RestRequest) -> Response:
        content = body.content
        if content is None or not content.strip():
            raise Invalid("content is required: the text of the message")
        idempotency_key = request.headers.get("idempotency-key")
        message = await self._on_open(
            body,
            lambda uow, c: conversations.contact_message(uow, c, content, idempotency_key=idempotency_key),
        )
        return ok("Message created successfully", clientId=body.clientId, messageHash=message.hash)

    # -- info: departments -------------------------------------------------------------------------

    async def departments(self, secret: str) -> Response:
        def work(uow: UnitOfWork) -> list[dict[str, Any]]:
            token = admin.token_by_secret(uow, secret)
            return [
                {
                    "id": d.id,
                    "name": d.name,
                    "state": 1 if d.active else 0,
                    "queue": d.queue_enabled,
                    "agentsOnline": len(uow.agents.online_in_department(d.id)),
                }
                for d in uow.departments.list(token.account_id)
            ]

        return json_response({"departments": await self.store.read(work), "status": 200})


def open_conversation(uow: UnitOfWork, token: ApiToken, key: str) -> Conversation:
    conversation = uow.conversations.open_by_origin_key(token.id, key)
    if conversation is None:
        raise NotFound(f"no open interaction for clientId {key}; start one with type info and content init")
    return conversation


def routes(services: Services) -> list[BaseRoute]:
    api = OmnizeRest(services)
    return surface_routes(((path, "POST", guarded(api.handle, error)) for path in PATHS), error)
