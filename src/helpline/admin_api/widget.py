"""``/api/admin/v1/departments/{id}/widget``: an admin reads and changes the web widget of a department
open to SDK clients — its allowed origins, greeting, colour and pre-chat form — as the CLI's
``helpline widget settings`` does. Same authentication, scoping and error shape as the rest of the admin API.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from helpline.admin_api.routes import PREFIX, error
from helpline.agent_api import session
from helpline.core import widget
from helpline.core.errors import Forbidden, Invalid, NotFound
from helpline.core.model import Role
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.http import decode_json, guarded, json_response, read_body
from helpline.web.services import Services


class WidgetChange(msgspec.Struct, forbid_unknown_fields=True):
    allowed_origins: list[str] | None = None
    greeting: str | None = None
    color: str | None = None
    prechat: str | None = None


def routes(services: Services) -> list[BaseRoute]:
    store, settings = services.store, services.settings

    async def handle(request: Request) -> Response:
        raw_id = request.path_params["id"]
        if not raw_id.isdigit():
            raise Invalid(f"department id must be a number (got {raw_id!r})")
        department_id = int(raw_id)
        change = None
        if request.method == "PUT":
            change = decode_json(await read_body(request, settings.max_body_bytes) or b"{}", WidgetChange)
        found = session.request_credential(request, settings)

        def work(uow: UnitOfWork) -> dict[str, Any]:
            agent = session.agent_for(uow, found)
            if agent.role is not Role.ADMIN:
                raise Forbidden("only an admin may do this; ask an admin of your account")
            inbox = uow.sdk.inboxes.get(department_id)
            if inbox is None or inbox.account_id != agent.account_id:
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

        run = store.write if change is not None else store.read
        return json_response(await run(work))

    return [Route(PREFIX + "/departments/{id}/widget", guarded(handle, error), methods=["GET", "PUT"])]
