"""``/api/agent/v1``: presence, the agent's conversations, accept/answer/type/transfer/finish (the
websocket is :mod:`helpline.agent_api.socket`).

Errors are ``{"error": {"status": N, "message": "..."}}`` with HTTP status N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, WebSocketRoute

from helpline.agent_api import session, views
from helpline.agent_api.schema import (
    Login,
    MarkDelivered,
    MarkSeen,
    PostMessage,
    SetPresence,
    Transfer,
    Typing,
)
from helpline.agent_api.socket import AgentSocket
from helpline.core import admin, agents, receipts, routing
from helpline.core.channel import sender_name
from helpline.core.credentials import verify_password
from helpline.core.errors import Invalid, Unauthorized
from helpline.core.files import kind_for, public_path, record_file
from helpline.core.model import Agent, Contact, Conversation, ConversationState, MessageKind, Presence, Role
from helpline.core.values import parse_number, parse_url
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import (
    Handler,
    guarded,
    json_response,
)
from helpline.web.services import Services
from helpline.web.surface import ApiSurface
from helpline.web.uploads import parse_multipart, single_file, store_upload, write_or_discard

PREFIX = "/api/agent/v1"


def _contact(uow: UnitOfWork, conversation: Conversation) -> Contact | None:
    return uow.contacts.get(conversation.contact_id) if conversation.contact_id else None


def error(status: int, message: str) -> Response:
    return json_response({"error": {"status": status, "message": message}}, status)


class AgentApi(ApiSurface):
    def _key(self, request: Request) -> session.Credential:
        """The Bearer API key, or the console's session cookie (see :mod:`helpline.agent_api.session`)."""
        return session.request_credential(request, self.services.settings)

    async def _act(
        self, request: Request, act: Callable[[UnitOfWork, Agent], Any], write: bool = True
    ) -> Any:
        key = self._key(request)

        def work(uow: UnitOfWork) -> Any:
            return act(uow, session.agent_for(uow, key))

        return await (self.store.write(work) if write else self.store.read(work))

    # -- session -----------------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        body = await self._decode(request, Login)
        agent = await self.store.read(lambda uow: uow.agents.by_email(body.email.strip().lower()))
        # argon2 is slow on purpose: verify off the event loop and outside the writer.
        if agent is None or not await asyncio.to_thread(verify_password, agent.password_hash, body.password):
            raise Unauthorized("wrong email or password")
        key = await self.store.write(lambda uow: admin.issue_api_key(uow, agent))
        return json_response({"api_key": key, "agent": views.agent_view(agent)})

    async def me(self, request: Request) -> Response:
        agent = await self._act(request, lambda uow, agent: agent, write=False)
        return json_response(views.agent_view(agent))

    async def presence(self, request: Request) -> Response:
        body = await self._decode(request, SetPresence)

        def act(uow: UnitOfWork, agent: Agent) -> Agent:
            agents.set_presence(uow, agent, Presence(body.status))
            return agent

        return json_response(views.agent_view(await self._act(request, act)))

    # -- conversations -----------------------------------------------------------------------------

    async def list_conversations(self, request: Request) -> Response:
        status = request.query_params.get("status")
        states = {s.value: s for s in ConversationState}
        if status is not None and status not in states:
            raise Invalid(f"status must be one of {', '.join(states)} (got {status!r})")
        limit = parse_number(request.query_params.get("limit", "100"), "limit", 1, 1000)
        text = request.query_params.get("q", "").strip()
        if len(text) > 200:
            raise Invalid("q must be at most 200 characters")

        def act(uow: UnitOfWork, agent: Agent) -> list[dict[str, Any]]:
            state = states[status] if status else None
            include_all = agent.role is Role.ADMIN
            if text:
                found = uow.conversation_search.search(
                    agent.account_id, agent.department_ids, agent.id, state, include_all, text, limit
                )
            else:
                found = uow.conversations.list_for_agent(
                    agent.account_id, agent.department_ids, agent.id, state, include_all, limit
                )
            listed = []
            # A queued listing is in queue order and holds every queued conversation of each department
            # it covers, so counting per department gives each one's place in its own line.
            places: dict[int, int] = {}
            for conversation in found:
                contact = uow.contacts.get(conversation.contact_id) if conversation.contact_id else None
                position = 0
                if conversation.state is ConversationState.QUEUED:
                    if status == "queued" and not text:
                        place = places.get(conversation.department_id, 0) + 1
                        position = places[conversation.department_id] = place
                    else:
                        position = routing.queue_position(uow, conversation)
                listed.append(views.conversation_with_contact(conversation, contact, position))
            return listed

        return json_response({"conversations": await self._act(request, act, write=False)})

    async def get_conversation(self, request: Request) -> Response:
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.visible_conversation(uow, agent, reference)
            contact = uow.contacts.get(conversation.contact_id) if conversation.contact_id else None
            position = (
                routing.queue_position(uow, conversation)
                if conversation.state is ConversationState.QUEUED
                else 0
            )
            return views.conversation_with_contact(conversation, contact, position)

        return json_response(await self._act(request, act, write=False))

    async def messages(self, request: Request) -> Response:
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.visible_conversation(uow, agent, reference)
            items = [views.history_item(e) for e in uow.history.list(conversation.id)]
            names: dict[tuple[str, int | None], str | None] = {}
            for m in uow.messages.list(conversation.id):
                who = (m.sender_type.value, m.sender_id)
                if who not in names:  # a conversation has few senders: one lookup each
                    names[who] = sender_name(uow, m)
                items.append(views.message_item(m, names[who]))
            return {
                "conversation_id": conversation.id,
                "external_history": {
                    "url": conversation.external_history_url,
                    "status": conversation.history_status.value,
                    "error": conversation.history_error,
                },
                "messages": items,
            }

        return json_response(await self._act(request, act, write=False))

    async def accept(self, request: Request) -> Response:
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.accept(uow, agent, agents.visible_conversation(uow, agent, reference))
            return views.conversation_with_contact(conversation, _contact(uow, conversation), 0)

        return json_response(await self._act(request, act))

    async def post_message(self, request: Request) -> Response:
        body = await self._decode(request, PostMessage)
        if body.content_type == "text" and not body.content.strip():
            raise Invalid("content is required for a text message")
        if body.url is not None:
            parse_url(body.url, "url")
        reference = request.path_params["id"]
        idempotency_key = request.headers.get("idempotency-key")

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.visible_conversation(uow, agent, reference)
            message = agents.send_message(
                uow,
                agent,
                conversation,
                body.content,
                MessageKind(body.content_type),
                body.url,
                idempotency_key,
                content_attributes=body.content_attributes,
                reply_to_id=body.reply_to,
            )
            return views.message_item(message, agent.name)

        return json_response(await self._act(request, act), status=201)

    async def seen(self, request: Request) -> Response:
        """The agent read the conversation: the contact's messages (up to ``up_to``) become ``seen``."""
        body = await self._decode(request, MarkSeen)
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.visible_conversation(uow, agent, reference)
            changed = receipts.mark_seen_by_agent(uow, agent, conversation, body.up_to)
            return {"seen": [m.id for m in changed]}

        return json_response(await self._act(request, act))

    async def delivered(self, request: Request) -> Response:
        """The agent's console received the contact's messages (up to ``up_to``): they become ``delivered``."""
        body = await self._decode(request, MarkDelivered)
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.visible_conversation(uow, agent, reference)
            changed = receipts.mark_delivered_by_agent(uow, agent, conversation, body.up_to)
            return {"delivered": [m.id for m in changed]}

        return json_response(await self._act(request, act))

    async def attach(self, request: Request) -> Response:
        """Multipart ``file`` (and an optional ``content`` caption): stored, typed by content, sent as a message."""
        key = self._key(request)
        reference = request.path_params["id"]
        limit = self.services.settings.max_upload_bytes
        # Who and where first, so nobody can fill the disk with uploads they may not send.
        await self._act(
            request, lambda uow, agent: agents.visible_conversation(uow, agent, reference), write=False
        )
        form = await parse_multipart(request, limit, max_files=1)
        upload = single_file(form, "file")
        caption = form.get("content")
        content = caption if isinstance(caption, str) else ""
        blob = await store_upload(self.services.files, upload, limit)
        idempotency_key = request.headers.get("idempotency-key")

        def work(uow: UnitOfWork) -> dict[str, Any]:
            agent = session.agent_for(uow, key)
            conversation = agents.visible_conversation(uow, agent, reference)
            stored = record_file(uow, conversation, blob, upload.filename, agents.actor_of(agent))
            message = agents.send_message(
                uow,
                agent,
                conversation,
                content,
                kind_for(blob.content_type),
                self.services.public_url(public_path(stored)),
                idempotency_key,
                file_id=stored.id,
            )
            return views.message_item(message, agent.name) | {
                "file": {
                    "name": stored.original_name,
                    "size": stored.size,
                    "content_type": stored.content_type,
                }
            }

        created = await write_or_discard(self.store, self.services.files, [blob], work)
        return json_response(created, status=201)

    async def limits(self, request: Request) -> Response:
        await self._act(request, lambda uow, agent: agent, write=False)
        return json_response({"max_upload_bytes": self.services.settings.max_upload_bytes})

    async def typing(self, request: Request) -> Response:
        body = await self._decode(request, Typing)
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> None:
            agents.typing(uow, agent, agents.visible_conversation(uow, agent, reference), body.typing)

        await self._act(request, act)
        return json_response({"typing": body.typing})

    async def finish(self, request: Request) -> Response:
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.finish(uow, agent, agents.visible_conversation(uow, agent, reference))
            return views.conversation_with_contact(conversation, _contact(uow, conversation), 0)

        return json_response(await self._act(request, act))

    async def transfer(self, request: Request) -> Response:
        body = await self._decode(request, Transfer)
        reference = request.path_params["id"]

        def act(uow: UnitOfWork, agent: Agent) -> dict[str, Any]:
            conversation = agents.visible_conversation(uow, agent, reference)
            agents.transfer(uow, agent, conversation, body.department_id, body.agent_id)
            position = (
                routing.queue_position(uow, conversation)
                if conversation.state is ConversationState.QUEUED
                else 0
            )
            return views.conversation_with_contact(conversation, _contact(uow, conversation), position)

        return json_response(await self._act(request, act))

    # -- the account's directory (transfer targets, names) ------------------------------------------

    async def departments(self, request: Request) -> Response:
        def act(uow: UnitOfWork, agent: Agent) -> list[dict[str, Any]]:
            return [
                {"id": d.id, "name": d.name, "active": d.active, "queue_enabled": d.queue_enabled}
                for d in uow.departments.list(agent.account_id)
            ]

        return json_response({"departments": await self._act(request, act, write=False)})

    async def directory(self, request: Request) -> Response:
        def act(uow: UnitOfWork, agent: Agent) -> list[dict[str, Any]]:
            return [
                {
                    "id": a.id,
                    "name": a.name,
                    "presence": a.presence.value,
                    "photo_url": a.photo_url,
                    "department_ids": a.department_ids,
                }
                for a in uow.agents.list(agent.account_id)
            ]

        return json_response({"agents": await self._act(request, act, write=False)})


def routes(services: Services) -> list[BaseRoute]:
    api = AgentApi(services)
    sessions = session.Sessions(services)
    table: list[tuple[str, Handler, str]] = [
        ("/login", api.login, "POST"),
        ("/session", sessions.sign_in, "POST"),
        ("/session", sessions.sign_out, "DELETE"),
        ("/departments", api.departments, "GET"),
        ("/agents", api.directory, "GET"),
        ("/me", api.me, "GET"),
        ("/presence", api.presence, "PUT"),
        ("/conversations", api.list_conversations, "GET"),
        ("/conversations/{id}", api.get_conversation, "GET"),
        ("/conversations/{id}/messages", api.messages, "GET"),
        ("/conversations/{id}/accept", api.accept, "POST"),
        ("/conversations/{id}/messages", api.post_message, "POST"),
        ("/conversations/{id}/typing", api.typing, "POST"),
        ("/conversations/{id}/seen", api.seen, "POST"),
        ("/conversations/{id}/delivered", api.delivered, "POST"),
        ("/conversations/{id}/attachments", api.attach, "POST"),
        ("/limits", api.limits, "GET"),
        ("/conversations/{id}/finish", api.finish, "POST"),
        ("/conversations/{id}/transfer", api.transfer, "POST"),
    ]
    public = {api.login, sessions.sign_in}

    async def authenticate(request: Request) -> None:
        await api._act(request, lambda uow, agent: agent, write=False)

    built = surface_routes(
        (
            (PREFIX + path, method, guarded(handler, error, None if handler in public else authenticate))
            for path, handler, method in table
        ),
        error,
    )
    built.append(WebSocketRoute(PREFIX + "/ws", AgentSocket(services)))
    return built
