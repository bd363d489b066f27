"""Core events → the seed's hookpoints under the session's ``chatServer`` base.

``/messageForCustomer`` (``picture``, ``name``, ``message``, ``sessionID``), ``/uploadForCustomer``
(multipart: the file's bytes and ``sessionID``), ``/typingIndicatorForCustomer`` (``Typing``,
``SessionID``) and ``/endSession`` (``sessionID``), as form posts through the outbox: one endpoint per
session, so each session's calls arrive in order, retried and signed.
"""

from __future__ import annotations

from typing import Any

from helpline.core import events as ev
from helpline.core.interactive import plain_message
from helpline.core.model import ActorType, Conversation, Event
from helpline.dialects.omnidesk.repository import ChatSession, OmnideskRepository
from helpline.outbound.bodies import form_body, multipart_fields
from helpline.outbound.model import FORM, MULTIPART, DeliveryFile, PlannedDelivery
from helpline.store.unit_of_work import UnitOfWork

MESSAGE = "/messageForCustomer"
UPLOAD = "/uploadForCustomer"
TYPING = "/typingIndicatorForCustomer"
END = "/endSession"


def _form(session: ChatSession, path: str, fields: dict[str, str]) -> PlannedDelivery:
    return PlannedDelivery(
        endpoint_id=session.endpoint_id, body=form_body(fields), content_type=FORM, path=path
    )


def _message(uow: UnitOfWork, session: ChatSession, message: dict[str, Any]) -> list[PlannedDelivery]:
    if message["direction"] != "outbound":
        return []
    sender = message["sender"]
    name = sender.get("name") or ""
    picture = ""
    if sender["type"] == ActorType.AGENT.value and sender.get("id") is not None:
        agent = uow.agents.get(sender["id"])
        if agent is not None:
            picture = agent.photo_url or ""
            name = name or agent.name
    planned: list[PlannedDelivery] = []
    text = message.get("content") or ""
    stored = uow.files.get(message["file_id"]) if message.get("file_id") else None
    if stored is not None:
        planned.append(
            PlannedDelivery(
                endpoint_id=session.endpoint_id,
                body=multipart_fields({"sessionID": session.session_key}),
                content_type=MULTIPART,
                path=UPLOAD,
                file=DeliveryFile("file", stored.key, stored.original_name, stored.content_type),
            )
        )
    elif message.get("url"):  # a file the agent linked rather than uploaded: the customer gets the link
        text = f"{text}\n{message['url']}" if text.strip() else str(message["url"])
    if text.strip():
        fields = {"picture": picture, "name": name, "message": text, "sessionID": session.session_key}
        planned.append(_form(session, MESSAGE, fields))
    return planned


def render(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
    session = OmnideskRepository.from_uow(uow).session_for_conversation(conversation.id)
    if session is None:  # a chatbot log: nobody to call back
        return []
    if event.type == ev.MESSAGE_CREATED:
        return _message(uow, session, plain_message(event.data["message"]))
    if event.type == ev.AGENT_TYPING:
        typing = "true" if event.data["typing"] else "false"
        return [_form(session, TYPING, {"Typing": typing, "SessionID": session.session_key})]
    if event.type == ev.CONVERSATION_FINISHED and event.actor.type is not ActorType.CONTACT:
        return [_form(session, END, {"sessionID": session.session_key})]
    return []
