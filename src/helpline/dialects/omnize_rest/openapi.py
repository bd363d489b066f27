"""The OpenAPI document of the Omnize ClientApi REST API as Helpline serves it (``/openapi/omnize-rest.json``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from helpline.dialects.omnize_rest import schema as rest
from helpline.web.openapi import MESSAGE_AND_STATUS, Operation, document


@cache
def omnize_rest_document() -> dict[str, Any]:
    ok = {
        "type": "object",
        "required": ["message", "status"],
        "properties": {
            "message": {"type": "string"},
            "status": {"type": "integer"},
            "clientId": {"type": ["string", "integer"]},
            "interactionHash": {"type": "string", "description": "info+init: the conversation"},
            "messageHash": {"type": "string", "description": "message: the message"},
            "departments": {"type": "array", "description": "info+departments", "items": {"type": "object"}},
        },
    }
    summary = (
        "Everything, dispatched on type and content: info+init starts a conversation for (token, clientId) "
        "or returns the open one; message sends content; info+typing|cleared|finish; info+departments"
    )
    ops = [Operation("POST", path, summary, rest.RestRequest, response=ok) for path in ("/api/rest/v1",)]
    return document(
        "Omnize ClientApi REST (served by Helpline)",
        "Also served at /client-gateway/api/rest/v1. Triggers are POSTed to the token's webhook URL: "
        '{"status":"accepted"|"unavailable"|"finish"|"typing"|"cleared","clientId":...} and '
        '{"message":"...","clientId":...} (with "sender":"bot" when a department\'s bot wrote it), with '
        "Standard Webhooks headers.",
        ops,
        MESSAGE_AND_STATUS,
        None,
    )
