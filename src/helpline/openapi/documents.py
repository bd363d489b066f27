"""The published documents: ``/openapi.json`` (index), ``/openapi/agent.json``, ``/openapi/omnize-v1.json``."""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from helpline.agent_api import schema as agent
from helpline.dialects.omnize_v1 import schema as v1
from helpline.openapi.build import Operation, document
from helpline.web.http import json_response

NAMES = ("openapi_agent", "openapi_omnize_v1")

_V1_ERROR = {
    "type": "object",
    "required": ["message", "status"],
    "properties": {"message": {"type": "string"}, "status": {"type": "integer"}},
}
_AGENT_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}


@cache
def agent_document() -> dict[str, Any]:
    c = "/api/agent/v1/conversations/{id}"
    ops = [
        Operation(
            "POST",
            "/api/agent/v1/login",
            "Exchange email and password for an API key",
            agent.Login,
            security=False,
        ),
        Operation("GET", "/api/agent/v1/me", "The agent the key belongs to"),
        Operation(
            "PUT",
            "/api/agent/v1/presence",
            "Set presence (online routes conversations to you)",
            agent.SetPresence,
        ),
        Operation(
            "GET",
            "/api/agent/v1/conversations",
            "Conversations of your departments and your own",
            query=[("status", "string", False), ("limit", "integer", False)],
        ),
        Operation("GET", c, "One conversation (numeric id or UUID hash)", path_params=["id"]),
        Operation(
            "GET",
            c + "/messages",
            "External history first (history: true), then messages",
            path_params=["id"],
        ),
        Operation(
            "POST",
            c + "/accept",
            "Take a waiting conversation (409 if another agent was faster)",
            path_params=["id"],
        ),
        Operation(
            "POST",
            c + "/messages",
            "Answer (Idempotency-Key header makes retries safe)",
            agent.PostMessage,
            path_params=["id"],
        ),
        Operation(
            "POST", c + "/typing", "Typing on/off, relayed to the customer", agent.Typing, path_params=["id"]
        ),
        Operation("POST", c + "/finish", "End the conversation", path_params=["id"]),
        Operation(
            "POST",
            c + "/transfer",
            "Move to a department's queue or to an agent",
            agent.Transfer,
            path_params=["id"],
        ),
    ]
    doc = document(
        "Helpline agent API",
        "Native API for agents. Real time: WS /api/agent/v1/ws (Bearer key or ?api_key=), frames "
        '{"seq":N,"event":"...","data":{...}}; reconnect with ?after=<last seq> to resume.',
        ops,
        _AGENT_ERROR,
        {"bearer": {"type": "http", "scheme": "bearer"}},
    )
    return doc


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
        _V1_ERROR,
        None,
    )


async def _agent(request: Request) -> Response:
    return json_response(agent_document())


async def _omnize_v1(request: Request) -> Response:
    return json_response(omnize_v1_document())


async def _index(request: Request) -> Response:
    return json_response(agent_document())


def routes() -> list[BaseRoute]:
    return [
        Route("/openapi.json", _index, methods=["GET"]),
        Route("/openapi/agent.json", _agent, methods=["GET"], name=NAMES[0]),
        Route("/openapi/omnize-v1.json", _omnize_v1, methods=["GET"], name=NAMES[1]),
    ]
