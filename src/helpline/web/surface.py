"""The base of every API surface (a dialect's, the agent and admin APIs): what it serves from, and how it
reads a JSON body."""

from __future__ import annotations

from typing import ClassVar, TypeVar

import msgspec
from starlette.requests import Request

from helpline.core.errors import Invalid
from helpline.web.http import decode_json, read_body
from helpline.web.services import Services

S = TypeVar("S", bound=msgspec.Struct)


class ApiSurface:
    # The refusal of an empty body; None reads an empty body as ``{}`` (every field at its default).
    empty_body: ClassVar[str | None] = None

    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store
        self.limit = services.settings.max_body_bytes

    async def _decode(self, request: Request, schema: type[S]) -> S:
        """The body as ``schema``, capped at ``max_body_bytes`` while it streams."""
        raw = await read_body(request, self.limit)
        if not raw.strip():
            if self.empty_body is not None:
                raise Invalid(self.empty_body)
            raw = b"{}"
        return decode_json(raw, schema)
