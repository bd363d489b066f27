"""The SDK's REST API under ``/api/v1/sdk``.

``POST /conversations`` opens the contact's channel and answers its ``pubsubToken``; every other call
presents that token in the ``access_token`` header. Each request does its whole change in one unit of
work; a refusal is ``{"statusCode": N, "message": "<what is wrong>", "error": "<reason>"}`` with status N.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from helpline.core import channel, conversations, inboxes, message_actions, receipts
from helpline.core.conversations import ContactDetails
from helpline.core.errors import Invalid, NotFound
from helpline.core.files import Blob, kind_for, public_path, record_file
from helpline.core.model import Actor, ActorType, Conversation, Direction, MessageKind
from helpline.dialects.novatalks import DIALECT, conversation_views, replies, views
from helpline.dialects.novatalks.requests import (
    SdkSurface,
    authorised,
    contact_attributes,
    done,
    error,
    multipart_files,
    multipart_message,
    parse_echo_id,
    path_id,
    query_number,
    secret_of,
)
from helpline.dialects.novatalks.schema import (
    CreateConversation,
    CreateMessage,
    InteractiveAttribute,
    PushTokenIn,
    ReactionIn,
    UpdateStatus,
)
from helpline.dialects.novatalks.settings import MAX_FILES, SettingsApi
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import Handler, guarded, json_response
from helpline.web.services import Services
from helpline.web.uploads import parse_multipart, store_upload, write_or_discard

PREFIX = "/api/v1/sdk"
MAX_NAME = 255
MAX_EMAIL = 74  # the vendor's limit
MAX_PHONE = 64
MAX_PUSH_TOKEN = 4096
MAX_PAGE = 100
DEFAULT_PAGE = 20
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
S = TypeVar("S", bound=msgspec.Struct)


class SdkApi(SdkSurface):
    def _check_length(self, content: str | None) -> None:
        limit = self.services.settings.sdk_max_message_chars
        if content is not None and len(content) > limit:
            raise Invalid(f"message.content must be at most {limit} characters (got {len(content)})")

    # -- POST /conversations -------------------------------------------------------------------------

    async def create_conversation(self, request: Request) -> Response:
        body = await self._decode(request, CreateConversation)
        name = body.name.strip()
        if not name:
            raise Invalid("name is required")
        if len(name) > MAX_NAME:
            raise Invalid(f"name must be at most {MAX_NAME} characters")
        email = body.email.strip() if body.email else None
        if email is not None and (len(email) > MAX_EMAIL or not _EMAIL.match(email)):
            raise Invalid(f"email must be an email address of at most {MAX_EMAIL} characters (got {email!r})")
        phone = (body.phone_number or "").strip() or None
        if phone is not None and len(phone) > MAX_PHONE:
            raise Invalid(f"phone_number must be at most {MAX_PHONE} characters")
        if body.push_token is not None and not 0 < len(body.push_token) <= MAX_PUSH_TOKEN:
            raise Invalid(f"push_token must have 1 to {MAX_PUSH_TOKEN} characters")
        # The vendor's schema lets a first message come without content: the conversation opens without it.
        first = body.message if body.message is not None and (body.message.content or "").strip() else None
        first_echo = parse_echo_id(first.echo_id) if first is not None else None
        self._check_length(body.message.content if body.message is not None else None)
        details = ContactDetails(
            name=name,
            email=email,
            phone=phone,
            attributes=contact_attributes(body.custom_attributes, body.additional_attributes),
        )
        identifier = request.query_params.get("inbox") or request.headers.get("x-inbox-identifier")

        def work(uow: UnitOfWork) -> dict[str, Any]:
            inbox = inboxes.resolve(uow, identifier)
            department = conversations.active_department(uow, inbox.account_id, inbox.department_id)

            def opening(conversation: Conversation) -> None:
                assert first is not None
                conversations.add_message(
                    uow,
                    conversation,
                    direction=Direction.INBOUND,
                    sender=Actor(ActorType.CONTACT, conversation.contact_id),
                    content=first.content or "",
                    kind=MessageKind.TEXT,
                    idempotency_key=views.echo_key(first_echo) if first_echo else None,
                    sender_name=name,
                )

            opened = channel.open_channel(uow, department, DIALECT, details, opening if first else None)
            if body.push_token:
                uow.sdk.push_tokens.add(opened.token.id, body.push_token, uow.now)
            return {
                "contact": views.contact_json(opened.contact),
                "contactInbox": {"pubsubToken": opened.secret},
                "account_id": department.account_id,
                "conversation": conversation_views.conversation_brief(opened.conversation),
            }

        return json_response({"payload": await self.store.write(work)})

    # -- GET /conversations, GET /conversations/messages ---------------------------------------------

    async def get_conversation(self, request: Request) -> Response:
        limit = query_number(request, "limit", 1)
        secret = secret_of(request)

        def work(uow: UnitOfWork) -> dict[str, Any]:
            token = authorised(uow, secret)
            conversation = channel.current_conversation(uow, token)
            found = uow.sdk.messages.page(conversation.id, limit=limit)
            status, substatus = views.status_of(conversation.state)
            return {
                "conversation": {
                    "id": conversation.id,
                    "status": status,
                    "contact_inbox_id": token.id,
                    "substatus": substatus,
                },
                "messages": views.messages_json(views.Lookup(uow), found),
            }

        return json_response(await self.store.read(work))

    async def get_messages(self, request: Request) -> Response:
        before = query_number(request, "before", 1)
        after = query_number(request, "after", 0)
        updated_at = query_number(request, "updated_at", 0)
        limit = query_number(request, "limit", 1, MAX_PAGE) or DEFAULT_PAGE
        secret = secret_of(request)
        # ``updated_at`` asks for messages changed after that millisecond.
        updated_after = (updated_at + 1) / 1000.0 if updated_at is not None else None

        def work(uow: UnitOfWork) -> list[dict[str, Any]]:
            token = authorised(uow, secret)
            conversation = channel.current_conversation(uow, token)
            found = uow.sdk.messages.page(
                conversation.id, before=before, after=after, updated_after=updated_after, limit=limit
            )
            return views.messages_json(views.Lookup(uow), found)

        return json_response(await self.store.read(work))

    # -- POST /conversations/messages ----------------------------------------------------------------

    async def create_message(self, request: Request) -> Response:
        secret = secret_of(request)
        uploads: list[UploadFile] = []
        blobs: list[Blob] = []
        content: str | None
        echo: str | int | None
        form: FormData | None = None
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            # Who first, so nobody can fill the disk with uploads they may not send.
            await self.store.read(lambda uow: authorised(uow, secret))
            limit = self.services.settings.max_upload_bytes
            form = await parse_multipart(request, limit, max_files=MAX_FILES)
        try:
            if form is not None:
                uploads = multipart_files(form)
                content, echo = multipart_message(form)
            else:
                body = await self._decode(request, CreateMessage)
                content, echo = body.message.content, body.message.echo_id
            echo_id = parse_echo_id(echo)
            self._check_length(content)
            if not uploads and not (content or "").strip():
                raise Invalid("message.content is required (or send files in attachments[])")
            reply = replies.parse(content) if content else None
            text = reply.content if reply is not None else (content or "")
            if not uploads and not text.strip():
                raise Invalid("the reply has no [Content:] text")
            for upload in uploads:
                blobs.append(
                    await store_upload(self.services.files, upload, self.services.settings.max_upload_bytes)
                )
        except BaseException:
            for blob in blobs:
                await self.services.files.delete(blob.key)
            raise
        finally:
            if form is not None:
                await form.close()

        def work(uow: UnitOfWork) -> bool:
            token = authorised(uow, secret)
            key = views.echo_key(echo_id) if echo_id else None
            current = channel.current_conversation(uow, token)
            if key is not None and uow.messages.by_idempotency_key(current.id, key) is not None:
                return False  # a retry: the first send stands
            reply_to_id = None
            if reply is not None:
                target = message_actions.reply_target(
                    uow, uow.sdk.conversations.ids_for_contact(token.contact_id), reply.message_id
                )
                replied_dialog = uow.conversations.by_id_any_account(target.conversation_id)
                if reply.dialog_id and (replied_dialog is None or replied_dialog.hash != reply.dialog_id):
                    raise NotFound(f"message {reply.message_id} not found in dialog {reply.dialog_id}")
                reply_to_id = target.id
            contact = uow.contacts.get(token.contact_id)
            actor = channel.contact_actor(token)

            def write(conversation: Conversation) -> None:
                if not blobs:
                    conversations.add_message(
                        uow,
                        conversation,
                        direction=Direction.INBOUND,
                        sender=actor,
                        content=text,
                        kind=MessageKind.TEXT,
                        idempotency_key=key,
                        sender_name=contact.name if contact else None,
                        reply_to_id=reply_to_id,
                    )
                for index, (blob, upload) in enumerate(zip(blobs, uploads, strict=True)):
                    stored = record_file(uow, conversation, blob, upload.filename, actor)
                    conversations.add_message(
                        uow,
                        conversation,
                        direction=Direction.INBOUND,
                        sender=actor,
                        content=text if index == 0 else "",
                        kind=kind_for(blob.content_type),
                        file_url=self.services.public_url(public_path(stored)),
                        idempotency_key=key if index == 0 or key is None else f"{key}#{index + 1}",
                        sender_name=contact.name if contact else None,
                        file_id=stored.id,
                        reply_to_id=reply_to_id if index == 0 else None,
                    )

            channel.conversation_to_write(uow, token, DIALECT, write)
            return True

        written = await write_or_discard(self.store, self.services.files, blobs, work)
        if not written:
            for blob in blobs:
                await self.services.files.delete(blob.key)
        return done()

    # -- PATCH status, PATCH interactive-attribute, DELETE, reactions --------------------------------

    async def update_status(self, request: Request) -> Response:
        body = await self._decode(request, UpdateStatus)
        if body.status not in receipts.STATUSES:
            raise Invalid(f"status must be one of {', '.join(receipts.STATUSES)} (got {body.status!r})")
        secret = secret_of(request)

        def work(uow: UnitOfWork) -> None:
            receipts.mark_by_contact(uow, authorised(uow, secret), body.messageIds, body.status)

        await self.store.write(work)
        return done()

    async def interactive_attribute(self, request: Request) -> Response:
        message_id = path_id(request)
        body = await self._decode(request, InteractiveAttribute)
        secret = secret_of(request)

        def work(uow: UnitOfWork) -> None:
            token = authorised(uow, secret)
            message = channel.contact_message(uow, token, message_id)
            conversation = channel.conversation_of(uow, message)
            message_actions.select_option(
                uow, token, conversation, message, body.selected_content_attribute_value
            )

        await self.store.write(work)
        return done()

    async def delete_message(self, request: Request) -> Response:
        message_id = path_id(request)
        secret = secret_of(request)

        def work(uow: UnitOfWork) -> str | None:
            token = authorised(uow, secret)
            message = channel.contact_message(uow, token, message_id)
            conversation = channel.conversation_of(uow, message)
            return message_actions.delete_message(uow, conversation, message, channel.contact_actor(token))

        key = await self.store.write(work)
        if key is not None:
            await self.services.files.delete(key)
        return done()

    async def react(self, request: Request) -> Response:
        message_id = path_id(request)
        body = await self._decode(request, ReactionIn)
        secret = secret_of(request)

        def work(uow: UnitOfWork) -> None:
            token = authorised(uow, secret)
            message = channel.contact_message(uow, token, message_id)
            conversation = channel.conversation_of(uow, message)
            message_actions.set_reaction(
                uow, conversation, message, channel.contact_actor(token), body.reaction
            )

        await self.store.write(work)
        return done()

    # -- push tokens ---------------------------------------------------------------------------------

    async def add_push_token(self, request: Request) -> Response:
        body = await self._decode(request, PushTokenIn)
        if not 0 < len(body.push_token.strip()) <= MAX_PUSH_TOKEN:
            raise Invalid(f"push_token must have 1 to {MAX_PUSH_TOKEN} characters")
        secret = secret_of(request)

        def work(uow: UnitOfWork) -> None:
            uow.sdk.push_tokens.add(authorised(uow, secret).id, body.push_token.strip(), uow.now)

        await self.store.write(work)
        return done()

    async def remove_push_token(self, request: Request) -> Response:
        push_token = request.path_params["push_token"]
        secret = secret_of(request)

        def work(uow: UnitOfWork) -> None:
            uow.sdk.push_tokens.remove(authorised(uow, secret).id, push_token)

        await self.store.write(work)
        return done()


def routes(services: Services) -> list[BaseRoute]:
    api = SdkApi(services)
    public_settings = SettingsApi(services)

    async def authenticate(request: Request) -> None:
        secret = secret_of(request)
        if request.url.path.endswith("/settings") and not secret:
            return  # the settings are public without a token
        await api.store.read(lambda uow: authorised(uow, secret))

    table: list[tuple[str, Handler, str]] = [
        ("/conversations", api.create_conversation, "POST"),
        ("/conversations", api.get_conversation, "GET"),
        ("/conversations/messages", api.get_messages, "GET"),
        ("/conversations/messages", api.create_message, "POST"),
        ("/conversations/messages/status", api.update_status, "PATCH"),
        ("/conversations/messages/{id}/interactive-attribute", api.interactive_attribute, "PATCH"),
        ("/conversations/messages/{id}/reactions", api.react, "POST"),
        ("/conversations/messages/{id}", api.delete_message, "DELETE"),
        ("/notifications", api.add_push_token, "POST"),
        ("/notifications/{push_token}", api.remove_push_token, "DELETE"),
        ("/settings", public_settings.settings, "GET"),
    ]
    public = {api.create_conversation}
    return surface_routes(
        (
            (PREFIX + path, method, guarded(handler, error, None if handler in public else authenticate))
            for path, handler, method in table
        ),
        error,
    )
