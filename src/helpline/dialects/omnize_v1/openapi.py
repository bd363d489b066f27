"""The OpenAPI document of the Omnize ClientApi V1 API as Helpline serves it (``/openapi/omnize-v1.json``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from helpline.dialects.omnize_v1 import schema as v1
from helpline.web.openapi import MESSAGE_AND_STATUS, Operation, document


@cache
def omnize_v1_document() -> dict[str, Any]:
    i = "/api/v1/interactions/{hash}"
    token = [("token", "string", True)]
    ops = [
        Operation("GET", "/api/v1/departments", "List departments", query=token),
        Operation("POST", "/api/v1/interactions", "Start an interaction", v1.StartInteraction),
        Operation(
            "POST",
            i + "/messages",
            "Send a message (text, or media by url)",
            v1.SendMessage,
            path_params=["hash"],
        ),
        Operation("PUT", i + "/typing", "The customer is typing", v1.TokenOnly, path_params=["hash"]),
        Operation("PUT", i + "/cleared", "The customer stopped typing", v1.TokenOnly, path_params=["hash"]),
        Operation("PUT", i + "/finish", "Finish the interaction", v1.TokenOnly, path_params=["hash"]),
        Operation(
            "PUT", i, "Update mood, tags, customer key, note", v1.UpdateInteraction, path_params=["hash"]
        ),
        Operation(
            "GET",
            "/api/v1/agents/online",
            "Agents online",
            query=[*token, ("department_id", "integer", False)],
        ),
    ]
    return document(
        "Omnize ClientApi V1 (served by Helpline)",
        "Also served under /core/api/v1. Triggers are POSTed to the token's webhook URL with Standard Webhooks "
        "headers (webhook-id, webhook-timestamp, webhook-signature).",
        ops,
        MESSAGE_AND_STATUS,
        None,
    )
