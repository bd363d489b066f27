"""``GET /files/{key}/{name}``: uploaded files, behind unguessable keys, with headers that keep them inert.

The browser is told the type we sniffed, never to sniff again, to run nothing (a sandbox CSP), and to
download anything that is not a plain picture, audio or video.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import BaseRoute

from helpline.files.local import LocalBlob
from helpline.web.endpoints import surface_routes
from helpline.web.http import json_response
from helpline.web.services import Services

INLINE = ("image/png", "image/jpeg", "image/gif", "image/webp", "audio/", "video/")


def routes(services: Services) -> list[BaseRoute]:
    async def serve_file(request: Request) -> Response:
        key = request.path_params["key"]
        if not key.isalnum():
            return json_response({"error": {"status": 404, "message": "no such file"}}, 404)
        found = await services.store.read(lambda uow: uow.files.by_key(key))
        stored = await services.files.open(key) if found else None
        if found is None or stored is None:
            return json_response({"error": {"status": 404, "message": "no such file"}}, 404)
        disposition = "inline" if found.content_type.startswith(INLINE) else "attachment"
        headers = {
            "content-disposition": f"{disposition}; filename*=UTF-8''{quote(found.original_name)}",
            "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'none'; sandbox",
            "cache-control": "private, max-age=86400",
            "x-sha256": found.sha256,
        }
        if isinstance(stored, LocalBlob):  # a file on disk: Starlette serves it (ranges, etag) from its path
            return FileResponse(stored.path, media_type=found.content_type, headers=headers)
        headers["content-length"] = str(stored.size)
        return StreamingResponse(stored.chunks(), media_type=found.content_type, headers=headers)

    return surface_routes([("/files/{key}/{name}", "GET", serve_file)], _error)


def _error(status: int, message: str) -> Response:
    return json_response({"error": {"status": status, "message": message}}, status)
