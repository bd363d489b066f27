"""The OpenAPI document of the Omnidesk chat API as Helpline serves it (``/openapi/omnidesk.json``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from helpline.dialects.omnidesk import schema
from helpline.dialects.omnidesk.chat_config import DEFAULTS
from helpline.web.openapi import Operation, document

FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")

_ERROR = {
    "type": "object",
    "required": ["type", "message"],
    "properties": {"type": {"const": "error"}, "message": {"type": "string"}},
}


def _result(message: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "message", *more],
        "properties": {"type": {"const": "result"}, "message": {"const": message}, **more},
    }


_CONFIG = {
    "type": "object",
    "required": ["type", "message", "config", "instructions"],
    "properties": {
        "type": {"const": "result"},
        "message": {"const": "start instructions"},
        "config": {
            "type": "object",
            "required": list(DEFAULTS),
            "properties": {key: {"type": ["string", "null"]} for key in DEFAULTS},
        },
        "instructions": {
            "type": "array",
            "description": '{"type":"hide_reason_no_agents_available"} exactly when the chat token is set to '
            "hide the chat when nobody is available and no agent of its department is online; "
            '{"type":"phoneNumber","key":"phoneNumber"} and {"type":"show_team","team_profile_pictures":[...]} '
            "when the account's configuration asks for them.",
            "items": {"type": "object"},
        },
    },
}

_HOOKPOINTS = (
    "Agent-side events are POSTed under the chatServer base each session gives, as form fields: "
    "/messageForCustomer (picture, name, message, sessionID), /uploadForCustomer (multipart: file, sessionID), "
    "/typingIndicatorForCustomer (Typing true|false, SessionID), /endSession (sessionID). Any 2xx answer "
    '(the seed\'s ok or {"message":"ok"}) counts as received; others are retried. Each call carries '
    "Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature) signed over the exact body "
    "with the chat token's signing secret. A chatServer that resolves to a loopback, private or otherwise "
    "non-public address is refused at the first message unless the operator allow-lists it."
)


@cache
def omnidesk_document() -> dict[str, Any]:
    ticket = {"ticketID": {"type": "integer"}}
    ops = [
        Operation(
            "POST",
            "/api/v2/chat/notifyUserNewChatMessage",
            "A customer message; the first of a chatSessionID opens the session and its ticket "
            "(messageNumber makes retries safe)",
            schema.NewChatMessage,
            _result("Message sent.", **ticket),
            security=False,
        ),
        Operation(
            "POST",
            "/api/v2/chat/addAttachment",
            "A file from the customer (multipart: file, chatServer, chatAccountToken, sessionID)",
            schema.AddAttachment,
            _result("Attachment uploaded.", **ticket, messageID={"type": "integer"}),
            security=False,
        ),
        Operation(
            "POST",
            "/api/v2/chat/notifyUserNewChatEvent",
            "startedtyping | stoppedtyping | expandedchat | minimizedchat",
            schema.NewChatEvent,
            _result("Event sent."),
            security=False,
        ),
        Operation(
            "POST",
            "/api/v2/message/notifyUserEndChat",
            "The customer side ended the session",
            schema.EndChat,
            _result("Session ended."),
            security=False,
        ),
        Operation(
            "GET",
            "/requestChatConfig",
            "The chat widget's configuration and instructions",
            response=_CONFIG,
            query=[("chatAccountToken", "string", True), ("chatServerToken", "string", True)],
            security=False,
        ),
        Operation(
            "POST",
            "/api/v2/chat/requestChatConfig",
            "The chat widget's configuration and instructions",
            schema.RequestChatConfig,
            _CONFIG,
            security=False,
        ),
        Operation(
            "POST",
            "/api/v2/message/chatbot",
            "A chatbot transcript (markdown) becomes a ticket for agents to read; the chat token in "
            "chatAccountToken or the apiKey header",
            schema.ChatbotLog,
            {
                "type": "object",
                "properties": {
                    "result": {"const": "success"},
                    "message": {"const": "Chatbot ticket created."},
                },
            },
            security=False,
        ),
    ]
    doc = document(
        "Omnidesk live chat (served by Helpline)",
        "Fields arrive as multipart/form-data, application/x-www-form-urlencoded, JSON or the query string; "
        "the apiKey header may carry the chatAccountToken. Refusals are "
        '{"type":"error","message":"<what is wrong>"} with a 4xx status (the chatbot endpoint: '
        '{"result":"error","message":...}). ' + _HOOKPOINTS,
        ops,
        _ERROR,
        None,
    )
    for methods in doc["paths"].values():
        for operation in methods.values():
            content = operation.get("requestBody", {}).get("content")
            if content is not None:
                body = content["application/json"]
                for media in FORMS:
                    content[media] = body
    upload = doc["paths"]["/api/v2/chat/addAttachment"]["post"]["requestBody"]["content"]
    upload.pop("application/json")
    upload.pop("application/x-www-form-urlencoded")
    schema_ref = upload["multipart/form-data"]["schema"]
    upload["multipart/form-data"] = {
        "schema": {
            "allOf": [
                schema_ref,
                {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                },
            ]
        }
    }
    return doc
