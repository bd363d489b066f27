"""``/api/admin/v1``: an admin's departments, agents, API tokens and webhook delivery log, for the console.

Authenticated like the agent API (the console's session cookie or ``Authorization: Bearer <api_key>``);
only agents with the ``admin`` role may call it, and everything is scoped to their own account.
Errors are ``{"error": {"status": N, "message": "..."}}`` with HTTP status N, as in the agent API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from helpline.admin_api.schema import CreateAgent, CreateDepartment, CreateToken
from helpline.agent_api import session
from helpline.core import admin
from helpline.core.errors import Forbidden, Invalid, NotFound
from helpline.core.model import Agent, ApiToken, Department, Endpoint, Role
from helpline.core.serialize import agent_record, department_record, token_record, without
from helpline.core.values import parse_id, parse_number
from helpline.outbound import operator
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import (
    Handler,
    guarded,
    json_response,
)
from helpline.web.services import Services
from helpline.web.surface import ApiSurface

PREFIX = "/api/admin/v1"
T = TypeVar("T")


def error(status: int, message: str) -> Response:
    return json_response({"error": {"status": status, "message": message}}, status)


def department_view(d: Department) -> dict[str, Any]:
    return without(department_record(d), "account_id", "bot_url", "bot_accept_timeout")


def agent_view(a: Agent) -> dict[str, Any]:
    return without(agent_record(a), "account_id")


def token_view(t: ApiToken, endpoint: Endpoint | None) -> dict[str, Any]:
    return without(token_record(t, endpoint), "account_id")


def _number(raw: str, what: str) -> int:
    return parse_id(raw, what)


class AdminApi(ApiSurface):
    async def _as_admin(
        self, request: Request, act: Callable[[UnitOfWork, Agent], T], write: bool = False
    ) -> T:
        found = session.request_credential(request, self.services.settings)

        def work(uow: UnitOfWork) -> T:
            agent = session.agent_for(uow, found)
            if agent.role is not Role.ADMIN:
                raise Forbidden("only an admin may do this; ask an admin of your account")
            return act(uow, agent)

        return await (self.store.write(work) if write else self.store.read(work))

    # -- departments -------------------------------------------------------------------------------

    async def departments(self, request: Request) -> Response:
        found = await self._as_admin(
            request, lambda uow, me: [department_view(d) for d in uow.departments.list(me.account_id)]
        )
        return json_response({"departments": found})

    async def create_department(self, request: Request) -> Response:
        body = await self._decode(request, CreateDepartment)

        def act(uow: UnitOfWork, me: Agent) -> dict[str, Any]:
            draft = Department(
                id=0,
                account_id=me.account_id,
                name=body.name.strip(),
                active=body.active,
                queue_enabled=body.queue_enabled,
                queued_max_time=body.queued_max_time,
                ringing_max_time=body.ringing_max_time,
                capacity=body.capacity,
                auto_assign=body.auto_assign,
            )
            return department_view(admin.create_department(uow, draft))

        return json_response(await self._as_admin(request, act, write=True), status=201)

    # -- agents ------------------------------------------------------------------------------------

    async def agents(self, request: Request) -> Response:
        found = await self._as_admin(
            request, lambda uow, me: [agent_view(a) for a in uow.agents.list(me.account_id)]
        )
        return json_response({"agents": found})

    async def create_agent(self, request: Request) -> Response:
        body = await self._decode(request, CreateAgent)
        if not body.name.strip():
            raise Invalid("an agent needs a name")

        def act(uow: UnitOfWork, me: Agent) -> dict[str, Any]:
            created = admin.create_agent(
                uow,
                me.account_id,
                body.name,
                body.email,
                body.password,
                body.department_ids,
                Role(body.role),
                body.photo_url,
            )
            return agent_view(created.agent) | {"api_key": created.api_key}

        response = json_response(await self._as_admin(request, act, write=True), status=201)
        response.headers["cache-control"] = "no-store"
        return response

    # -- API tokens --------------------------------------------------------------------------------

    async def tokens(self, request: Request) -> Response:
        def act(uow: UnitOfWork, me: Agent) -> list[dict[str, Any]]:
            return [
                token_view(t, uow.endpoints.get(t.endpoint_id) if t.endpoint_id else None)
                for t in uow.tokens.list(me.account_id)
            ]

        return json_response({"tokens": await self._as_admin(request, act)})

    async def create_token(self, request: Request) -> Response:
        body = await self._decode(request, CreateToken)
        webhook_url = (body.webhook_url or "").strip() or None

        def act(uow: UnitOfWork, me: Agent) -> dict[str, Any]:
            issued = admin.create_token(uow, me.account_id, webhook_url)
            return token_view(issued.token, issued.endpoint) | {
                "token": issued.secret,
                "signing_secret": issued.endpoint.secret if issued.endpoint else None,
            }

        response = json_response(await self._as_admin(request, act, write=True), status=201)
        response.headers["cache-control"] = "no-store"
        return response

    async def revoke_token(self, request: Request) -> Response:
        token_id = _number(request.path_params["id"], "token id")

        def act(uow: UnitOfWork, me: Agent) -> dict[str, Any]:
            token = uow.tokens.get(token_id)
            if token is None or token.account_id != me.account_id:
                raise NotFound(f"token {token_id} does not exist")
            uow.tokens.revoke(token_id, uow.now)
            revoked = uow.tokens.get(token_id)
            assert revoked is not None
            return token_view(
                revoked, uow.endpoints.get(revoked.endpoint_id) if revoked.endpoint_id else None
            )

        return json_response(await self._as_admin(request, act, write=True))

    # -- the webhook delivery log ------------------------------------------------------------------

    async def deliveries(self, request: Request) -> Response:
        state = request.query_params.get("state") or None
        limit = parse_number(request.query_params.get("limit", "50"), "limit", 1, 500)
        me = await self._as_admin(request, lambda uow, me: me)
        found = await self.store.read(operator.list_work(me.account_id, state, limit))
        return json_response({"deliveries": found})

    async def replay(self, request: Request) -> Response:
        delivery_id = _number(request.path_params["id"], "delivery id")
        me = await self._as_admin(request, lambda uow, me: me)
        return json_response(await operator.replay_async(self.store, delivery_id, me.account_id))


def routes(services: Services) -> list[BaseRoute]:
    api = AdminApi(services)
    table: list[tuple[str, Handler, str]] = [
        ("/departments", api.departments, "GET"),
        ("/departments", api.create_department, "POST"),
        ("/agents", api.agents, "GET"),
        ("/agents", api.create_agent, "POST"),
        ("/tokens", api.tokens, "GET"),
        ("/tokens", api.create_token, "POST"),
        ("/tokens/{id}/revoke", api.revoke_token, "POST"),
        ("/deliveries", api.deliveries, "GET"),
        ("/deliveries/{id}/replay", api.replay, "POST"),
    ]

    async def authenticate(request: Request) -> None:
        await api._as_admin(request, lambda uow, me: me)

    return surface_routes(
        ((PREFIX + path, method, guarded(handler, error, authenticate)) for path, handler, method in table),
        error,
    )
