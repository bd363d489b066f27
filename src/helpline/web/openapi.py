"""Assemble OpenAPI 3.1 documents from the msgspec request structs and a table of operations.

Below the API packages, so that each dialect builds its own document importing downward only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from helpline import __version__

# The error body several vendors' APIs share: {"message": "...", "status": 4xx}.
MESSAGE_AND_STATUS: dict[str, Any] = {
    "type": "object",
    "required": ["message", "status"],
    "properties": {"message": {"type": "string"}, "status": {"type": "integer"}},
}


@dataclass(slots=True)
class Operation:
    method: str
    path: str
    summary: str
    request: type[msgspec.Struct] | None = None
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    query: Sequence[tuple[str, str, bool]] = ()  # name, type, required
    path_params: Sequence[str] = ()
    security: bool = True
    multipart: Sequence[tuple[str, bool]] = ()  # form fields (name, is a file) of a multipart upload
    returns: type[msgspec.Struct] | None = None  # the answer's type: its schema replaces ``response``
    status: int = 200  # of a success


def document(
    title: str,
    description: str,
    operations: Sequence[Operation],
    error: dict[str, Any],
    security: dict[str, Any] | None,
    extra_types: Sequence[type[msgspec.Struct]] = (),
) -> dict[str, Any]:
    structs = tuple(
        dict.fromkeys(
            [op.request for op in operations if op.request is not None]
            + [op.returns for op in operations if op.returns is not None]
            + list(extra_types)
        )
    )
    schemas, components = msgspec.json.schema_components(structs, ref_template="#/components/schemas/{name}")
    by_struct = dict(zip(structs, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in op.path_params
        ] + [
            {"name": name, "in": "query", "required": required, "schema": {"type": kind}}
            for name, kind, required in op.query
        ]
        entry: dict[str, Any] = {
            "summary": op.summary,
            "responses": {
                str(op.status): {
                    "description": "OK" if op.status == 200 else "Created",
                    "content": {
                        "application/json": {
                            "schema": by_struct[op.returns] if op.returns is not None else op.response
                        }
                    },
                },
                "4XX": {"description": "Refused", "content": {"application/json": {"schema": error}}},
            },
        }
        if parameters:
            entry["parameters"] = parameters
        if op.multipart:
            fields = {
                name: {"type": "string", "format": "binary"} if is_file else {"type": "string"}
                for name, is_file in op.multipart
            }
            entry["requestBody"] = {
                "required": True,
                "content": {"multipart/form-data": {"schema": {"type": "object", "properties": fields}}},
            }
        if op.request is not None:  # beside a multipart form, when the operation takes both
            body = entry.setdefault("requestBody", {"required": True, "content": {}})
            body["content"]["application/json"] = {"schema": by_struct[op.request]}
        if security and op.security:
            entry["security"] = [{name: []} for name in security]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__, "description": description},
        "paths": paths,
        "components": {"schemas": components},
    }
    if security:
        doc["components"]["securitySchemes"] = security
    return doc
