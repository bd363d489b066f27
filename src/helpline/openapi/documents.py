"""The published documents: ``/openapi.json`` (index), ``/openapi/agent.json``, ``/openapi/omnize-v1.json``."""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from helpline.admin_api import schema as admin
from helpline.admin_api import widget as admin_widget
from helpline.agent_api import schema as agent
from helpline.dialects.novatalks.openapi import novatalks_document
from helpline.dialects.omnidesk.openapi import omnidesk_document
from helpline.dialects.omnize_rest import schema as rest
from helpline.dialects.omnize_v1 import schema as v1
from helpline.dialects.zenvia_bot import schema as bot
from helpline.openapi.build import Operation, document
from helpline.web.http import json_response

NAMES = (
    "openapi_agent",
    "openapi_omnize_v1",
    "openapi_omnize_rest",
    "openapi_zenvia_bot",
    "openapi_omnidesk",
    "openapi_novatalks_sdk",
    "openapi_admin",
)

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
        Operation(
            "POST",
            "/api/agent/v1/session",
            "Sign in for the browser console: sets an HttpOnly, SameSite=Strict session cookie",
            agent.Login,
            security=False,
        ),
        Operation("DELETE", "/api/agent/v1/session", "Sign out: the session ends on the server too"),
        Operation("GET", "/api/agent/v1/me", "The agent the key belongs to"),
        Operation("GET", "/api/agent/v1/departments", "Departments of your account (transfer targets)"),
        Operation(
            "GET", "/api/agent/v1/agents", "Agents of your account with their presence (transfer targets)"
        ),
        Operation("GET", "/api/agent/v1/limits", "Limits that apply to you, such as max_upload_bytes"),
        Operation(
            "PUT",
            "/api/agent/v1/presence",
            "Set presence (online routes conversations to you)",
            agent.SetPresence,
        ),
        Operation(
            "GET",
            "/api/agent/v1/conversations",
            "Conversations of your departments and your own; q searches customer and message text",
            query=[("status", "string", False), ("limit", "integer", False), ("q", "string", False)],
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
            "Answer: text, a file by url, or a card / quick_reply / feedback with content_attributes"
            " (Idempotency-Key header makes retries safe)",
            agent.PostMessage,
            path_params=["id"],
        ),
        Operation(
            "POST", c + "/typing", "Typing on/off, relayed to the customer", agent.Typing, path_params=["id"]
        ),
        Operation(
            "POST",
            c + "/seen",
            "You read the contact's messages (up to up_to): they become seen, and the contact is told",
            agent.MarkSeen,
            path_params=["id"],
        ),
        Operation(
            "POST",
            c + "/attachments",
            "Send a file (multipart `file`, optional `content` caption); typed by its bytes; 413 over the limit",
            path_params=["id"],
            multipart=[("file", True), ("content", False)],
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
        _V1_ERROR,
        None,
    )


@cache
def zenvia_bot_document() -> dict[str, Any]:
    b = "/core/api/v1/bot/{interaction_hash}"
    received = {
        "type": "object",
        "properties": {"message": {"const": "Message received successfully"}, "status": {"const": 200}},
    }
    ops = [
        Operation(
            "PUT",
            b + "/accept",
            "The bot takes the interaction on",
            bot.TokenOnly,
            received,
            path_params=["interaction_hash"],
        ),
        Operation(
            "POST",
            b + "/message",
            "Answer the customer (text, or audio/image/video/file with attachment.url)",
            bot.SendMessage,
            received,
            path_params=["interaction_hash"],
        ),
        Operation(
            "PUT",
            b + "/transfer",
            "Hand over to humans: of department_id, or (null) of the department the interaction started in",
            bot.Transfer,
            received,
            path_params=["interaction_hash"],
        ),
        Operation(
            "PUT",
            b + "/finish",
            "End the interaction",
            bot.TokenOnly,
            received,
            path_params=["interaction_hash"],
        ),
    ]
    return document(
        "Zenvia External bot (served by Helpline)",
        "A department with a bot URL gives its new conversations to the bot. The server POSTs to that URL "
        '{"type":"new_interaction","interaction_hash","department_id"}, {"type":"new_message","interaction_hash",'
        '"content","content_type"} (files add "attachment":{"url"}) and {"type":"finished_interaction",'
        '"interaction_hash"}, signed with the bot\'s own secret (Standard Webhooks headers). The bot may act '
        "only on interactions it holds; every refusal is HTTP 422 with a message saying why. A bot that cannot "
        "be reached or does not accept in time loses the interaction to the department's human queue.",
        ops,
        _V1_ERROR,
        None,
    )


async def _agent(request: Request) -> Response:
    return json_response(agent_document())


async def _omnize_v1(request: Request) -> Response:
    return json_response(omnize_v1_document())


async def _omnize_rest(request: Request) -> Response:
    return json_response(omnize_rest_document())


async def _zenvia_bot(request: Request) -> Response:
    return json_response(zenvia_bot_document())


async def _omnidesk(request: Request) -> Response:
    return json_response(omnidesk_document())


async def _novatalks(request: Request) -> Response:
    return json_response(novatalks_document())


@cache
def admin_document() -> dict[str, Any]:
    a = "/api/admin/v1"
    ops = [
        Operation("GET", a + "/departments", "Departments of your account"),
        Operation("POST", a + "/departments", "Create a department", admin.CreateDepartment),
        Operation("GET", a + "/agents", "Agents of your account"),
        Operation("POST", a + "/agents", "Create an agent (its API key is shown once)", admin.CreateAgent),
        Operation("GET", a + "/tokens", "API tokens (never their secrets)"),
        Operation("POST", a + "/tokens", "Issue a token, with a webhook URL (shown once)", admin.CreateToken),
        Operation("POST", a + "/tokens/{id}/revoke", "Revoke a token", path_params=["id"]),
        Operation(
            "GET",
            a + "/deliveries",
            "The outbound delivery log, newest first, with every attempt",
            query=[("state", "string", False), ("limit", "integer", False)],
        ),
        Operation(
            "POST",
            a + "/deliveries/{id}/replay",
            "Send a delivery again (same webhook-id)",
            path_params=["id"],
        ),
        Operation("GET", a + "/departments/{id}/widget", "A department's web widget", path_params=["id"]),
        Operation(
            "PUT",
            a + "/departments/{id}/widget",
            "Set the web widget's allowed origins (replaced), greeting, colour, pre-chat form",
            admin_widget.WidgetChange,
            path_params=["id"],
        ),
    ]
    return document(
        "Helpline admin API",
        "For agents with the admin role, scoped to their account; the console's admin screens use it.",
        ops,
        _AGENT_ERROR,
        {"bearer": {"type": "http", "scheme": "bearer"}},
    )


async def _admin(request: Request) -> Response:
    return json_response(admin_document())


async def _index(request: Request) -> Response:
    return json_response(agent_document())


def routes() -> list[BaseRoute]:
    return [
        Route("/openapi.json", _index, methods=["GET"]),
        Route("/openapi/agent.json", _agent, methods=["GET"], name=NAMES[0]),
        Route("/openapi/omnize-v1.json", _omnize_v1, methods=["GET"], name=NAMES[1]),
        Route("/openapi/omnize-rest.json", _omnize_rest, methods=["GET"], name=NAMES[2]),
        Route("/openapi/zenvia-bot.json", _zenvia_bot, methods=["GET"], name=NAMES[3]),
        Route("/openapi/omnidesk.json", _omnidesk, methods=["GET"], name="openapi_omnidesk"),
        Route("/openapi/novatalks-sdk.json", _novatalks, methods=["GET"], name="openapi_novatalks_sdk"),
        Route("/openapi/admin.json", _admin, methods=["GET"], name="openapi_admin"),
    ]
