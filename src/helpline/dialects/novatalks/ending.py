"""``POST /api/v1/sdk/conversations/resolve``: the contact ends its conversation (Helpline's addition).

The vendor's SDK has no call for it (its conversations end on the agents' side); the web widget's
"Close chat" needs one, so that agents see the customer left instead of a conversation waiting forever.
Ending one already ended is not an error: the answer is the same 200 with no body.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from helpline.core import channel, conversations
from helpline.core.model import ConversationState
from helpline.dialects.novatalks.routes import PREFIX, authorised, done, error
from helpline.store.sql import SqlUnitOfWork
from helpline.web.http import guarded
from helpline.web.services import Services

PATH = PREFIX + "/conversations/resolve"


def routes(services: Services) -> list[BaseRoute]:
    async def resolve(request: Request) -> Response:
        secret = (
            request.headers.get("access_token")
            or request.headers.get("access-token")
            or request.query_params.get("access_token")
        )

        def work(uow: SqlUnitOfWork) -> None:
            token = authorised(uow, secret)
            conversation = channel.current_conversation(uow, token)
            if conversation.state is not ConversationState.FINISHED:
                conversations.contact_finish(uow, conversation)

        await services.store.write(work)
        return done()

    return [Route(PATH, guarded(resolve, error), methods=["POST"])]
