"""The Omnidesk chat API: ``/api/v2/chat/...``, ``/api/v2/message/...`` and ``/requestChatConfig``.

Every endpoint takes its fields as ``multipart/form-data``, URL-encoded form fields, JSON or the query
string, does its whole change in one unit of work, and answers in the seed's words. Refusals are
``{"type": "error", "message": "<what is wrong>"}`` with a 4xx status (the chatbot endpoint, whose
success reads ``{"result": "success", ...}``, refuses with ``{"result": "error", "message": ...}``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from hmac import compare_digest
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from helpline.core import conversations
from helpline.core.conversations import ContactDetails, StartConversation
from helpline.core.credentials import token_hash
from helpline.core.errors import Conflict, Invalid, NotFound, Unauthorized
from helpline.core.files import Blob, kind_for, public_path, record_file
from helpline.core.model import Actor, ActorType, Conversation, Direction, HistoryEntry
from helpline.dialects.omnidesk import DIALECT, HOOKPOINT_KIND, chat_config
from helpline.dialects.omnidesk.fields import TOKEN_HEADER, convert, read_fields, text_fields
from helpline.dialects.omnidesk.repository import ChatSession, ChatToken, OmnideskRepository
from helpline.dialects.omnidesk.schema import (
    EVENTS,
    AddAttachment,
    ChatbotLog,
    EndChat,
    NewChatEvent,
    NewChatMessage,
    RequestChatConfig,
)
from helpline.dialects.omnidesk.sessions import (
    chat_server_base,
    chat_token,
    check_token_format,
    conversation_of,
    ended,
    session_for_call,
    session_key,
)
from helpline.outbound.guard import OutboundGuard, OutboundRefused
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import Handler, guarded, json_response
from helpline.web.services import Services
from helpline.web.surface import ApiSurface
from helpline.web.uploads import parse_multipart, single_file, store_upload, write_or_discard

S = TypeVar("S", bound=msgspec.Struct)
MAX_PAGE_URL = 2048
MAX_SUBJECT = 500
CHATBOT_SUBJECT = "Chatbot conversation"


def error(status: int, message: str) -> Response:
    return json_response({"type": "error", "message": message}, status)


def chatbot_error(status: int, message: str) -> Response:
    return json_response({"result": "error", "message": message}, status)


def result(message: str, **more: Any) -> Response:
    return json_response({"type": "result", "message": message, **more})


class _NeedsCheck:
    """A unit of work found it must point a session at a ``chatServer`` not yet checked: it wrote
    nothing; the handler checks the address (which needs the event loop) and runs it again."""


NEEDS_CHECK: Final = _NeedsCheck()


@dataclass(slots=True)
class _Message:
    secret: str
    key: str
    base: str
    content: str
    page_url: str
    channel_id: int
    idempotency_key: str | None


def _contact(conversation: Conversation) -> Actor:
    return Actor(ActorType.CONTACT, conversation.contact_id)


def _move(uow: UnitOfWork, session: ChatSession, base: str) -> None:
    uow.endpoints.update_url(session.endpoint_id, base)
    OmnideskRepository.from_uow(uow).move_session(session.id, base)


class Omnidesk(ApiSurface):
    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.guard = OutboundGuard(services.settings.outbound_allow)

    async def _fields(
        self, request: Request, schema: type[S], aliases: tuple[tuple[str, str], ...] = ()
    ) -> S:
        return convert(await read_fields(request, self.limit), schema, request.headers, aliases)

    async def _check_server(self, base: str) -> None:
        """The SSRF guard at first contact: a base that resolves to a refused address is refused now,
        with the reason, rather than failing every hookpoint call later (the worker checks again)."""
        parts = urlsplit(base)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            await self.guard.resolve(host, port)
        except OutboundRefused as refused:
            raise Invalid(f"chatServer {base} is refused: {refused.message}") from None
        except OSError as unresolved:
            raise Invalid(f"chatServer {base} cannot be reached: {unresolved}") from None

    async def _write_checked(self, base: str, work: Callable[[UnitOfWork, str | None], Any]) -> Any:
        """Run ``work`` (given the base already checked, if any); check the base when it asks, then again."""
        outcome = await self.store.write(lambda uow: work(uow, None))
        if outcome is NEEDS_CHECK:
            await self._check_server(base)
            outcome = await self.store.write(lambda uow: work(uow, base))
        assert outcome is not NEEDS_CHECK  # with ``base`` checked, the work has nothing left to ask
        return outcome

    # -- POST /api/v2/chat/notifyUserNewChatMessage ------------------------------------------------

    async def new_chat_message(self, request: Request) -> Response:
        body = await self._fields(request, NewChatMessage)
        page_url = body.url.strip()
        if len(page_url) > MAX_PAGE_URL:
            raise Invalid(f"url is longer than {MAX_PAGE_URL} characters")
        message = _Message(
            secret=check_token_format(body.chatAccountToken),
            key=session_key(body.chatSessionID),
            base=chat_server_base(body.chatServer),
            content=body.message,
            page_url=page_url,
            channel_id=body.channelID,
            idempotency_key=f"messageNumber:{body.messageNumber}" if body.messageNumber else None,
        )
        ticket = await self._write_checked(
            message.base, lambda uow, checked: self._message_work(uow, message, checked)
        )
        return result("Message sent.", ticketID=ticket)

    def _message_work(self, uow: UnitOfWork, m: _Message, checked: str | None) -> int | _NeedsCheck:
        token = chat_token(uow, m.secret)
        OmnideskRepository.from_uow(uow).hold_token(
            token.id
        )  # two first messages of one session make one ticket
        session = OmnideskRepository.from_uow(uow).latest_session(token.id, m.key)
        if session is not None:
            conversation = conversation_of(uow, session)
            if m.idempotency_key and uow.messages.by_idempotency_key(conversation.id, m.idempotency_key):
                return conversation.id  # a retry: the first one counted
            if not conversation.is_open:
                raise ended(m.key, conversation)
            if session.chat_server != m.base:
                if checked != m.base:
                    return NEEDS_CHECK
                _move(uow, session, m.base)
        else:
            if checked != m.base:
                return NEEDS_CHECK
            conversation = self._open_session(uow, token, m)
        conversations.contact_message(uow, conversation, m.content, idempotency_key=m.idempotency_key)
        return conversation.id

    @staticmethod
    def _open_session(uow: UnitOfWork, token: ChatToken, m: _Message) -> Conversation:
        conversation = conversations.start_conversation(
            uow,
            StartConversation(
                account_id=token.account_id,
                department_id=token.department_id,
                origin_dialect=DIALECT,
                origin_key=m.key,
                contact=ContactDetails(attributes={"page_url": m.page_url}),
                extra={"page_url": m.page_url, "channel_id": m.channel_id},
            ),
        )
        if not conversation.is_open:  # routed straight to "unavailable": nothing is kept
            department = uow.departments.get(token.account_id, token.department_id)
            name = f" ({department.name})" if department else ""
            raise Conflict(
                f"no agent of department {token.department_id}{name} is online and its queue is off:"
                " the chat cannot start now"
            )
        endpoint = uow.endpoints.create(
            token.account_id, HOOKPOINT_KIND, m.base, token.signing_secret, uow.now
        )
        OmnideskRepository.from_uow(uow).add_session(
            token.account_id, token.id, m.key, conversation.id, endpoint.id, m.base, uow.now
        )
        return conversation

    # -- POST /api/v2/chat/addAttachment ----------------------------------------------------------

    async def add_attachment(self, request: Request) -> Response:
        limit = self.services.settings.max_upload_bytes
        form = await parse_multipart(request, limit, max_files=1)
        try:
            fields = dict(request.query_params) | text_fields(form)
            body = convert(fields, AddAttachment, request.headers, aliases=(("sessionID", "chatSessionID"),))
            secret = check_token_format(body.chatAccountToken)
            key = session_key(body.sessionID)
            base = chat_server_base(body.chatServer)
            upload = single_file(form, "file")
            # Who and which session first, so nobody fills the disk with files no session takes.
            session = await self.store.read(lambda uow: self._open_session_of(uow, secret, key))
            if session.chat_server != base:
                await self._check_server(base)
            blob = await store_upload(self.services.files, upload, limit)
        finally:
            await form.close()
        name = upload.filename

        def work(uow: UnitOfWork) -> tuple[int, int]:
            current = self._open_session_of(uow, secret, key)
            conversation = conversation_of(uow, current)
            if current.chat_server != base:
                _move(uow, current, base)
            return self._attach(uow, conversation, blob, name)

        ticket, message_id = await write_or_discard(self.store, self.services.files, [blob], work)
        return result("Attachment uploaded.", ticketID=ticket, messageID=message_id)

    @staticmethod
    def _open_session_of(uow: UnitOfWork, secret: str, key: str) -> ChatSession:
        token = chat_token(uow, secret)
        session = OmnideskRepository.from_uow(uow).latest_session(token.id, key)
        if session is None:
            raise NotFound(
                f"no chat session {key!r} for this chatAccountToken; start it with notifyUserNewChatMessage"
            )
        conversation = conversation_of(uow, session)
        if not conversation.is_open:
            raise ended(key, conversation)
        return session

    def _attach(
        self, uow: UnitOfWork, conversation: Conversation, blob: Blob, name: str | None
    ) -> tuple[int, int]:
        stored = record_file(uow, conversation, blob, name, _contact(conversation))
        message = conversations.add_message(
            uow,
            conversation,
            direction=Direction.INBOUND,
            sender=_contact(conversation),
            content=stored.original_name,
            kind=kind_for(blob.content_type),
            file_url=self.services.public_url(public_path(stored)),
            file_id=stored.id,
        )
        return conversation.id, message.id

    # -- POST /api/v2/chat/notifyUserNewChatEvent -------------------------------------------------

    async def new_chat_event(self, request: Request) -> Response:
        body = await self._fields(request, NewChatEvent, aliases=(("chatSessionID", "sessionID"),))
        event = body.event.strip().lower()
        if event not in EVENTS:
            raise Invalid(f"event must be one of {', '.join(EVENTS)} (got {body.event!r})")
        key = session_key(body.chatSessionID)
        base = chat_server_base(body.chatServer)
        secret = body.chatAccountToken

        def work(uow: UnitOfWork) -> None:
            conversation = conversation_of(uow, session_for_call(uow, key, base, secret))
            if not conversation.is_open:
                raise ended(key, conversation)
            if event in ("startedtyping", "stoppedtyping"):
                conversations.contact_typing(uow, conversation, event == "startedtyping")
            else:
                activity = "chat_expanded" if event == "expandedchat" else "chat_minimized"
                conversations.contact_activity(uow, conversation, activity)

        await self.store.write(work)
        return result("Event sent.")

    # -- POST /api/v2/message/notifyUserEndChat ---------------------------------------------------

    async def end_chat(self, request: Request) -> Response:
        body = await self._fields(request, EndChat, aliases=(("chatSessionID", "sessionID"),))
        key = session_key(body.chatSessionID)
        base = chat_server_base(body.chatServer)
        secret = body.chatAccountToken

        def work(uow: UnitOfWork) -> None:
            conversation = conversation_of(uow, session_for_call(uow, key, base, secret))
            if conversation.is_open:  # ending an ended session again is a retry: same answer
                conversations.contact_finish(uow, conversation)

        await self.store.write(work)
        return result("Session ended.")

    # -- GET /requestChatConfig, POST /api/v2/chat/requestChatConfig ------------------------------

    async def request_chat_config(self, request: Request) -> Response:
        body = await self._fields(request, RequestChatConfig)
        account_secret = check_token_format(body.chatAccountToken)
        server_hash = token_hash(body.chatServerToken.strip())

        def work(uow: UnitOfWork) -> dict[str, Any]:
            token = chat_token(uow, account_secret)
            if not compare_digest(token.server_token_hash, server_hash):
                raise Unauthorized("chatServerToken does not belong to this chatAccountToken")
            config, switches = chat_config.effective(
                OmnideskRepository.from_uow(uow).config(token.account_id)
            )
            online = uow.agents.online_in_department(token.department_id)
            return {
                "type": "result",
                "message": "start instructions",
                "config": config,
                "instructions": chat_config.instructions(switches, token.hide_when_offline, online),
            }

        answer = await self.store.read(work)
        # The widget asks from the visitor's browser, on the customer's site.
        headers = {"access-control-allow-origin": "*"} if request.method == "GET" else None
        return json_response(answer, headers=headers)

    # -- POST /api/v2/message/chatbot -------------------------------------------------------------

    async def chatbot(self, request: Request) -> Response:
        body = await self._fields(request, ChatbotLog)
        if not body.chatAccountToken:
            raise Unauthorized(
                f"send your chatAccountToken in the field chatAccountToken or the {TOKEN_HEADER} header"
            )
        secret = check_token_format(body.chatAccountToken)
        sender = body.sender.strip()
        subject = (body.subject or CHATBOT_SUBJECT).strip()
        if len(subject) > MAX_SUBJECT:
            raise Invalid(f"subject is longer than {MAX_SUBJECT} characters")
        contact = ContactDetails(email=sender) if "@" in sender else ContactDetails(phone=sender)
        brand_id = body.brandID
        transcript = body.message

        def work(uow: UnitOfWork) -> None:
            token = chat_token(uow, secret)
            department_id = token.department_id
            extra: dict[str, Any] = {"subject": subject, "from": sender, "chatbot_log": True}
            if brand_id is not None:
                brand = OmnideskRepository.from_uow(uow).brand(token.account_id, brand_id)
                if brand is None:
                    raise NotFound(f"brand {brand_id} not found")
                department_id = brand.department_id or department_id
                extra["brand"] = {"id": brand.id, "name": brand.name}
            conversation = conversations.start_conversation(
                uow,
                StartConversation(
                    account_id=token.account_id,
                    department_id=department_id,
                    origin_dialect=DIALECT,
                    contact=contact,
                    extra=extra,
                ),
            )
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(uow.now))
            entry = HistoryEntry(conversation.id, 0, when, ActorType.BOT.value, transcript)
            conversations.record_history(uow, conversation, [entry], None)

        await self.store.write(work)
        return json_response({"result": "success", "message": "Chatbot ticket created."})


def routes(services: Services) -> list[BaseRoute]:
    api = Omnidesk(services)
    table: list[tuple[str, Handler, str]] = [
        ("/api/v2/chat/notifyUserNewChatMessage", api.new_chat_message, "POST"),
        ("/api/v2/chat/addAttachment", api.add_attachment, "POST"),
        ("/api/v2/chat/notifyUserNewChatEvent", api.new_chat_event, "POST"),
        ("/api/v2/message/notifyUserEndChat", api.end_chat, "POST"),
        ("/requestChatConfig", api.request_chat_config, "GET"),
        ("/api/v2/chat/requestChatConfig", api.request_chat_config, "POST"),
    ]
    built = surface_routes(
        ((path, method, guarded(handler, error)) for path, handler, method in table), error
    )
    chatbot = guarded(api.chatbot, chatbot_error)
    return built + surface_routes([("/api/v2/message/chatbot", "POST", chatbot)], chatbot_error)
