"""``/api/admin/v1/departments/{id}/widget``: an admin reads and changes the web widget of a department
open to SDK clients — its allowed origins, greeting, colour and pre-chat form — as the CLI's
``helpline widget settings`` does. Same authentication, scoping and error shape as the rest of the admin API.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from helpline.admin_api.routes import PREFIX, AdminApi, error
from helpline.core import widget
from helpline.core.errors import Invalid, NotFound
from helpline.core.model import Agent
from helpline.core.values import parse_id
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.endpoints import surface_routes
from helpline.web.http import guarded, json_response
from helpline.web.services import Services


class WidgetChange(msgspec.Struct, forbid_unknown_fields=True):
    allowed_origins: list[str] | None = None
    greeting: str | None = None
    color: str | None = None
    prechat: str | None = None


class WidgetApi(AdminApi):
    async def widget(self, request: Request) -> Response:
        department_id = parse_id(request.path_params["id"], "department id")
        change = await self._decode(request, WidgetChange) if request.method == "PUT" else None

        def act(uow: UnitOfWork, me: Agent) -> dict[str, Any]:
            inbox = uow.sdk.inboxes.get(department_id)
            if inbox is None or inbox.account_id != me.account_id:
                raise NotFound(f"department {department_id} does not exist")
            if change is None:
                current = widget.settings_of(uow, department_id)
            else:
                if not inbox.enabled:
                    raise Invalid(f"department {department_id} is not open to SDK clients")
                current = widget.configure(
                    uow,
                    department_id,
                    origins=change.allowed_origins,
                    greeting=change.greeting,
                    color=change.color,
                    prechat=change.prechat,
                )
            return {
                "department_id": department_id,
                "sdk": inbox.enabled,
                "sdk_identifier": inbox.identifier,
                **widget.view(current),
            }

        return json_response(await self._as_admin(request, act, write=change is not None))


def routes(services: Services) -> list[BaseRoute]:
    api = WidgetApi(services)

    async def authenticate(request: Request) -> None:
        await api._as_admin(request, lambda uow, me: me)

    return surface_routes(
        (
            (PREFIX + "/departments/{id}/widget", method, guarded(api.widget, error, authenticate))
            for method in ("GET", "PUT")
        ),
        error,
    )
