"""``/widget.js`` and ``/widget/{name}``: the web widget's static files, read from the package once.

Hand-written JavaScript modules in ``static/``, no build step, nothing from anywhere but this server.
Other sites' pages load them, so they are served to any origin (``Access-Control-Allow-Origin: *``: the
modules ``widget.js`` imports are fetched in CORS mode); they are public code and carry no data. What the
widget may do is decided by the SDK API, which answers only the inbox's allowed origins.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".mp3": "audio/mpeg"}
HEADERS = {
    "x-content-type-options": "nosniff",
    "access-control-allow-origin": "*",
    "cross-origin-resource-policy": "cross-origin",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


def load_assets() -> dict[str, Asset]:
    """Every servable file of ``helpline/widget/static`` (not the tests beside it), keyed by name."""
    assets: dict[str, Asset] = {}
    for entry in resources.files("helpline.widget").joinpath("static").iterdir():
        suffix = entry.name[entry.name.rfind(".") :]
        if not entry.is_file() or suffix not in TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        assets[entry.name] = Asset(body, gzip.compress(body, mtime=0), TYPES[suffix], etag)
    return assets


def _serve(asset: Asset, request: Request) -> Response:
    headers = dict(HEADERS)
    headers["etag"] = asset.etag
    headers["vary"] = "Accept-Encoding"
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def routes() -> list[BaseRoute]:
    assets = load_assets()
    loader = assets["widget.js"]

    async def script(request: Request) -> Response:
        return _serve(loader, request)

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain", headers=dict(HEADERS))
        return _serve(found, request)

    return [
        Route("/widget.js", script, methods=["GET", "HEAD"]),
        Route("/widget/{name}", asset, methods=["GET", "HEAD"]),
    ]
