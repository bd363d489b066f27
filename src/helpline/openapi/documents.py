"""The published documents: ``/openapi.json`` (index), ``/openapi/agent.json``, ``/openapi/omnize-v1.json``."""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from helpline.admin_api import responses as admin_out
from helpline.admin_api import schema as admin
from helpline.admin_api import widget as admin_widget
from helpline.agent_api import responses as agent_out
from helpline.agent_api import schema as agent
from helpline.dialects.novatalks.openapi import novatalks_document
from helpline.dialects.omnidesk.openapi import omnidesk_document
from helpline.dialects.omnize_rest.openapi import omnize_rest_document
from helpline.dialects.omnize_v1.openapi import omnize_v1_document
from helpline.dialects.zenvia_bot.openapi import zenvia_bot_document
from helpline.web.http import json_response
from helpline.web.openapi import Operation, document

NAMES = (
    "openapi_agent",
    "openapi_omnize_v1",
    "openapi_omnize_rest",
    "openapi_zenvia_bot",
    "openapi_omnidesk",
    "openapi_novatalks_sdk",
    "openapi_admin",
)

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
            returns=agent_out.LoggedIn,
        ),
        Operation(
            "POST",
            "/api/agent/v1/session",
            "Sign in for the browser console: sets an HttpOnly, SameSite=Strict session cookie",
            agent.Login,
            security=False,
            returns=agent_out.SignedIn,
        ),
        Operation(
            "DELETE",
            "/api/agent/v1/session",
            "Sign out: the session ends on the server too",
            returns=agent_out.SignedOut,
        ),
        Operation("GET", "/api/agent/v1/me", "The agent the key belongs to", returns=agent_out.AgentView),
        Operation(
            "GET",
            "/api/agent/v1/departments",
            "Departments of your account (transfer targets)",
            returns=agent_out.Departments,
        ),
        Operation(
            "GET",
            "/api/agent/v1/agents",
            "Agents of your account with their presence (transfer targets)",
            returns=agent_out.Directory,
        ),
        Operation(
            "GET",
            "/api/agent/v1/limits",
            "Limits that apply to you, such as max_upload_bytes",
            returns=agent_out.Limits,
        ),
        Operation(
            "PUT",
            "/api/agent/v1/presence",
            "Set presence (online routes conversations to you)",
            agent.SetPresence,
            returns=agent_out.AgentView,
        ),
        Operation(
            "GET",
            "/api/agent/v1/conversations",
            "Conversations of your departments and your own; q searches customer and message text",
            query=[("status", "string", False), ("limit", "integer", False), ("q", "string", False)],
            returns=agent_out.Conversations,
        ),
        Operation(
            "GET",
            c,
            "One conversation (numeric id or UUID hash)",
            path_params=["id"],
            returns=agent_out.Conversation,
        ),
        Operation(
            "GET",
            c + "/messages",
            "External history first (history: true), then messages",
            path_params=["id"],
            returns=agent_out.Messages,
        ),
        Operation(
            "POST",
            c + "/accept",
            "Take a waiting conversation (409 if another agent was faster)",
            path_params=["id"],
            returns=agent_out.Conversation,
        ),
        Operation(
            "POST",
            c + "/messages",
            "Answer: text, a file by url, or a card / quick_reply / feedback with content_attributes"
            " (Idempotency-Key header makes retries safe)",
            agent.PostMessage,
            path_params=["id"],
            returns=agent_out.Message,
            status=201,
        ),
        Operation(
            "POST",
            c + "/typing",
            "Typing on/off, relayed to the customer",
            agent.Typing,
            path_params=["id"],
            returns=agent_out.TypingAnswer,
        ),
        Operation(
            "POST",
            c + "/seen",
            "You read the contact's messages (up to up_to): they become seen, and the contact is told",
            agent.MarkSeen,
            path_params=["id"],
            returns=agent_out.Seen,
        ),
        Operation(
            "POST",
            c + "/delivered",
            "Your console received the contact's messages (up to up_to): they become delivered, and the contact "
            "is told",
            agent.MarkDelivered,
            path_params=["id"],
            returns=agent_out.Delivered,
        ),
        Operation(
            "POST",
            c + "/attachments",
            "Send a file (multipart `file`, optional `content` caption); typed by its bytes; 413 over the limit",
            path_params=["id"],
            multipart=[("file", True), ("content", False)],
            returns=agent_out.SentFile,
            status=201,
        ),
        Operation(
            "POST", c + "/finish", "End the conversation", path_params=["id"], returns=agent_out.Conversation
        ),
        Operation(
            "POST",
            c + "/transfer",
            "Move to a department's queue or to an agent",
            agent.Transfer,
            path_params=["id"],
            returns=agent_out.Conversation,
        ),
    ]
    doc = document(
        "Helpline agent API",
        "Native API for agents. Real time: WS /api/agent/v1/ws (Bearer key or ?api_key=), frames "
        '{"seq":N,"event":"...","data":{...}}; reconnect with ?after=<last seq> to resume.',
        ops,
        _AGENT_ERROR,
        {"bearer": {"type": "http", "scheme": "bearer"}},
        extra_types=(agent_out.Message, agent_out.HistoryItem),
    )
    schemas = doc["components"]["schemas"]
    schemas["Messages"]["properties"]["messages"]["items"] = {
        "oneOf": [{"$ref": "#/components/schemas/Message"}, {"$ref": "#/components/schemas/HistoryItem"}]
    }
    return doc


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
        Operation("GET", a + "/departments", "Departments of your account", returns=admin_out.Departments),
        Operation(
            "POST",
            a + "/departments",
            "Create a department",
            admin.CreateDepartment,
            returns=admin_out.Department,
            status=201,
        ),
        Operation("GET", a + "/agents", "Agents of your account", returns=admin_out.Agents),
        Operation(
            "POST",
            a + "/agents",
            "Create an agent (its API key is shown once)",
            admin.CreateAgent,
            returns=admin_out.CreatedAgent,
            status=201,
        ),
        Operation("GET", a + "/tokens", "API tokens (never their secrets)", returns=admin_out.Tokens),
        Operation(
            "POST",
            a + "/tokens",
            "Issue a token, with a webhook URL (shown once)",
            admin.CreateToken,
            returns=admin_out.CreatedToken,
            status=201,
        ),
        Operation(
            "POST", a + "/tokens/{id}/revoke", "Revoke a token", path_params=["id"], returns=admin_out.Token
        ),
        Operation(
            "GET",
            a + "/deliveries",
            "The outbound delivery log, newest first, with every attempt",
            query=[("state", "string", False), ("limit", "integer", False)],
            returns=admin_out.Deliveries,
        ),
        Operation(
            "POST",
            a + "/deliveries/{id}/replay",
            "Send a delivery again (same webhook-id)",
            path_params=["id"],
            returns=admin_out.Delivery,
        ),
        Operation(
            "GET",
            a + "/departments/{id}/widget",
            "A department's web widget",
            path_params=["id"],
            returns=admin_out.Widget,
        ),
        Operation(
            "PUT",
            a + "/departments/{id}/widget",
            "Set the web widget's allowed origins (replaced), greeting, colour, pre-chat form",
            admin_widget.WidgetChange,
            path_params=["id"],
            returns=admin_out.Widget,
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
