"""The OpenAPI document of the SDK API as Helpline serves it (``/openapi/novatalks-sdk.json``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from helpline.dialects.novatalks import schema
from helpline.web.openapi import Operation, document

_ERROR = {
    "type": "object",
    "required": ["statusCode", "message", "error"],
    "properties": {
        "statusCode": {"type": "integer"},
        "message": {"type": "string"},
        "error": {"type": "string"},
    },
}
_NULLABLE_STRING = {"type": ["string", "null"]}
_STATUS = {"type": "string", "enum": ["open", "resolved", "pending", "snoozed"]}
_SUBSTATUS = {
    "type": "string",
    "enum": [
        "alerting",
        "dialing",
        "contacting",
        "interacting",
        "onteam",
        "oninbox",
        "inqueue",
        "hold",
        "acw",
    ],
}
_SENDER = {
    "type": "object",
    "required": ["id", "name", "displayName", "avatar_url"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "display_name": _NULLABLE_STRING,
        "displayName": _NULLABLE_STRING,
        "avatar_url": _NULLABLE_STRING,
    },
}
_ATTACHMENT = {
    "type": "object",
    "required": [
        "id",
        "message_id",
        "account_id",
        "file_type",
        "data_url",
        "thumb_url",
        "file_size",
        "mime_type",
    ],
    "properties": {
        "id": {"type": "integer"},
        "message_id": {"type": "integer"},
        "account_id": {"type": "integer"},
        "file_type": {"type": "string", "enum": ["image", "audio", "video", "file"]},
        "fallback_title": _NULLABLE_STRING,
        "extension": _NULLABLE_STRING,
        "data_url": {"type": "string"},
        "thumb_url": {"type": "string"},
        "file_size": {"type": "integer"},
        "mime_type": _NULLABLE_STRING,
    },
}
_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "account_id",
        "content",
        "inbox_id",
        "conversation_id",
        "dialog_id",
        "message_type",
        "content_type",
        "status",
        "content_attributes",
        "sender_type",
        "sender_id",
        "created_at",
        "updated_at",
        "echo_id",
        "attachments",
        "sender",
        "reply",
    ],
    "properties": {
        "id": {"type": "integer"},
        "account_id": {"type": "integer"},
        "content": _NULLABLE_STRING,
        "inbox_id": {"type": "integer"},
        "conversation_id": {"type": "integer"},
        "dialog_id": {"type": "string", "format": "uuid"},
        "message_type": {"type": "string", "enum": ["incoming", "outgoing", "activity", "template"]},
        "content_type": {"type": "string", "enum": ["text", "card", "quick_reply", "feedback"]},
        "private": {"type": "boolean"},
        "pinned": {"type": "boolean"},
        "status": {"type": "string", "enum": ["sent", "delivered", "seen", "failed"]},
        "source_id": _NULLABLE_STRING,
        "content_attributes": {"type": "object"},
        "sender_type": {"type": "string", "enum": ["Contact", "User", "AgentBot"]},
        "sender_id": {"type": "integer"},
        "external_source_ids": {"type": "object"},
        "created_at": {"type": "integer", "description": "milliseconds"},
        "updated_at": {"type": "integer", "description": "milliseconds"},
        "echo_id": {"type": "string"},
        "attachments": {"type": "array", "items": _ATTACHMENT},
        "sender": _SENDER,
        "reply": {"type": ["object", "null"]},
        "reactions": {"type": "array", "items": {"type": "object"}},
    },
}
_CONVERSATION = {
    "type": "object",
    "required": ["id", "status", "substatus"],
    "properties": {"id": {"type": "integer"}, "status": _STATUS, "substatus": _SUBSTATUS},
}
_CREATED = {
    "type": "object",
    "required": ["payload"],
    "properties": {
        "payload": {
            "type": "object",
            "required": ["contact", "contactInbox", "account_id", "conversation"],
            "properties": {
                "contact": {"type": "object"},
                "contactInbox": {
                    "type": "object",
                    "required": ["pubsubToken"],
                    "properties": {"pubsubToken": {"type": "string"}},
                },
                "account_id": {"type": "integer"},
                "conversation": _CONVERSATION,
            },
        }
    },
}
_NO_BODY: dict[str, Any] = {"description": "200 with an empty body"}
_TOKEN = {"access_token": {"type": "apiKey", "in": "header", "name": "access_token"}}


@cache
def novatalks_document() -> dict[str, Any]:
    base = "/api/v1/sdk"
    inbox = [("inbox", "string", False)]
    ops = [
        Operation(
            "POST",
            base + "/conversations",
            "Create the contact and its conversation; answers its pubsubToken",
            schema.CreateConversation,
            response=_CREATED,
            query=inbox,
            security=False,
        ),
        Operation(
            "GET",
            base + "/conversations",
            "The current conversation and its messages (all, or the last `limit`)",
            response={
                "type": "object",
                "required": ["conversation", "messages"],
                "properties": {
                    "conversation": _CONVERSATION,
                    "messages": {"type": "array", "items": _MESSAGE},
                },
            },
            query=[("limit", "integer", False)],
        ),
        Operation(
            "GET",
            base + "/conversations/messages",
            "20 (`limit`) messages before/after a message id, or changed after `updated_at` (ms)",
            response={"type": "array", "items": _MESSAGE},
            query=[
                ("before", "integer", False),
                ("after", "integer", False),
                ("updated_at", "integer", False),
                ("limit", "integer", False),
            ],
        ),
        Operation(
            "POST",
            base + "/conversations/messages",
            "Send a message (JSON, or multipart with attachments[] and message[content], message[echo_id]"
            " or message as one JSON part); echo_id is optional, a repeated one is not sent twice",
            schema.CreateMessage,
            response=_NO_BODY,
            multipart=[
                ("attachments[]", True),
                ("message[content]", False),
                ("message[echo_id]", False),
                ("message", False),
            ],
        ),
        Operation(
            "PATCH",
            base + "/conversations/messages/status",
            "Mark agents' messages sent | delivered | seen | failed",
            schema.UpdateStatus,
            response=_NO_BODY,
        ),
        Operation(
            "PATCH",
            base + "/conversations/messages/{id}/interactive-attribute",
            "Answer a card (postback), a quick reply or a feedback question",
            schema.InteractiveAttribute,
            response=_NO_BODY,
            path_params=["id"],
        ),
        Operation(
            "POST",
            base + "/conversations/messages/{id}/reactions",
            "React to a message (null takes the reaction back)",
            schema.ReactionIn,
            response=_NO_BODY,
            path_params=["id"],
        ),
        Operation(
            "DELETE",
            base + "/conversations/messages/{id}",
            "Delete one of the contact's own messages",
            response=_NO_BODY,
            path_params=["id"],
        ),
        Operation(
            "POST",
            base + "/notifications",
            "Register a device's push token",
            schema.PushTokenIn,
            response=_NO_BODY,
        ),
        Operation(
            "DELETE",
            base + "/notifications/{push_token}",
            "Forget a device's push token",
            response=_NO_BODY,
            path_params=["push_token"],
        ),
        Operation(
            "GET",
            base + "/settings",
            "The inbox's settings for the SDK (with access_token: the token's inbox)",
            query=inbox,
            security=False,
        ),
        # Helpline's additions, for the web widget (not in the vendor's API).
        Operation(
            "POST",
            base + "/conversations/resolve",
            "Helpline's addition: the contact ends its current conversation",
            response=_NO_BODY,
        ),
        Operation(
            "GET",
            base + "/conversations/queue",
            "Helpline's addition: {conversation_id, status, substatus, queue_position} (null unless waiting)",
        ),
    ]
    return document(
        "Novatalks SDK API (served by Helpline)",
        "Authorise with the contact's pubsubToken in the access_token header. Real time: WS /ws — send "
        '{"event":"subscribe","data":{"pubsub_token":"...","account_id":N}} (add "after": <message id> or '
        '"updated_at": <ms> to receive what was missed), answer presence.update with {"event":"update_presence"}. '
        "Errors: {statusCode, message, error}.",
        ops,
        _ERROR,
        _TOKEN,
    )
