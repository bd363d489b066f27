"""Helpline's additions to the SDK API, for the web widget; the vendor's own calls stay as the seed has them.

- ``POST /api/v1/sdk/conversations/resolve``: the contact ends its conversation. The vendor's SDK has no
  call for it (its conversations end on the agents' side); the widget's "Close chat" needs one, so that
  agents see the customer left instead of a conversation waiting forever. Ending one already ended is
  not an error: the same 200 with no body.
- ``GET /api/v1/sdk/conversations/queue``: ``{"conversation_id", "status", "substatus", "queue_position"}``
  (the position is null unless waiting for an agent), which the widget asks for while the customer waits.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from helpline.core import channel, conversations, routing
from helpline.core.model import ConversationState
from helpline.dialects.novatalks import views
from helpline.dialects.novatalks.requests import authorised, done, error
from helpline.dialects.novatalks.routes import PREFIX
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.http import guarded, json_response
from helpline.web.services import Services

RESOLVE = PREFIX + "/conversations/resolve"
QUEUE = PREFIX + "/conversations/queue"


def _secret(request: Request) -> str | None:
    return (
        request.headers.get("access_token")
        or request.headers.get("access-token")
        or request.query_params.get("access_token")
    )


def routes(services: Services) -> list[BaseRoute]:
    store = services.store

    async def resolve(request: Request) -> Response:
        secret = _secret(request)

        def work(uow: UnitOfWork) -> None:
            token = authorised(uow, secret)
            conversation = channel.current_conversation(uow, token)
            if conversation.state is not ConversationState.FINISHED:
                conversations.contact_finish(uow, conversation)

        await store.write(work)
        return done()

    async def queue(request: Request) -> Response:
        secret = _secret(request)

        def work(uow: UnitOfWork) -> dict[str, object]:
            conversation = channel.current_conversation(uow, authorised(uow, secret))
            status, substatus = views.status_of(conversation.state)
            waiting = conversation.state is ConversationState.QUEUED
            return {
                "conversation_id": conversation.id,
                "status": status,
                "substatus": substatus,
                "queue_position": routing.queue_position(uow, conversation) if waiting else None,
            }

        return json_response(await store.read(work))

    return [
        Route(RESOLVE, guarded(resolve, error), methods=["POST"]),
        Route(QUEUE, guarded(queue, error), methods=["GET"]),
    ]
