"""``GET /api/v1/sdk/settings``: what an SDK client (or the web widget) needs to know about its inbox
before it starts: limits, the websocket's timing, agents online, and the widget's greeting and colours.
Public without a token (the inbox is named by ``?inbox=`` / ``X-Inbox-Identifier``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from helpline.core import inboxes, widget
from helpline.core.interactive import INTERACTIVE
from helpline.dialects.novatalks import views
from helpline.dialects.novatalks.requests import SdkSurface, authorised, secret_of
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.http import json_response

MAX_FILES = 10  # attachments per message


class SettingsApi(SdkSurface):
    async def settings(self, request: Request) -> Response:
        secret = secret_of(request)
        identifier = request.query_params.get("inbox") or request.headers.get("x-inbox-identifier")
        settings = self.services.settings

        def work(uow: UnitOfWork) -> dict[str, Any]:
            if secret:
                token = authorised(uow, secret)
                inbox = uow.sdk.inboxes.get(token.department_id)
                assert inbox is not None
            else:
                inbox = inboxes.resolve(uow, identifier)
            department = uow.departments.get(inbox.account_id, inbox.department_id)
            assert department is not None
            return {
                "account_id": inbox.account_id,
                "inbox": {
                    "id": inbox.department_id,
                    "name": inbox.name,
                    "identifier": inbox.identifier,
                    "channel": views.CHANNEL,
                    "active": department.active,
                },
                "agents_online": len(uow.agents.online_in_department(department.id)),
                "queue_enabled": department.queue_enabled,
                "websocket": {
                    "path": "/ws",
                    "keepalive_seconds": settings.sdk_keepalive_seconds,
                    "timeout_seconds": settings.sdk_idle_timeout_seconds,
                },
                "attachments": {"max_bytes": settings.max_upload_bytes, "max_files": MAX_FILES},
                "max_message_chars": settings.sdk_max_message_chars,
                "public_url": settings.resolved_public_url(),
                "widget": widget.public_view(uow.widget.get(inbox.department_id)),
                "push_notifications": inbox.push_endpoint_id is not None,
                "interactive_content_types": sorted(k.value for k in INTERACTIVE),
                "reactions": True,
                "delete_messages": True,
            }

        return json_response(await self.store.read(work))
