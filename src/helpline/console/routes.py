"""``/console``: the agent console's static files, read from the package once and served with safe headers.

The console is hand-written HTML, CSS and JavaScript modules in ``static/``; there is no build step and
nothing is fetched from anywhere but this server. Everything it does goes through the agent API (and,
for admins, the admin API) with the session cookie.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

# Scripts, styles and connections only from this server. Images and media may come from the URLs
# customers' apps send (http/https), never from data: or javascript: URLs they could smuggle in.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: http: https:; "
    "media-src 'self' http: https:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def load_assets() -> dict[str, Asset]:
    """Every file of ``helpline/console/static``, keyed by name."""
    assets: dict[str, Asset] = {}
    for entry in resources.files("helpline.console").joinpath("static").iterdir():
        suffix = entry.name[entry.name.rfind(".") :]
        if not entry.is_file() or suffix not in TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        assets[entry.name] = Asset(body, TYPES[suffix], etag)
    return assets


def _serve(asset: Asset, request: Request) -> Response:
    headers = dict(HEADERS)
    headers["etag"] = asset.etag
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def routes() -> list[BaseRoute]:
    assets = load_assets()
    index = assets["index.html"]

    async def page(request: Request) -> Response:
        return _serve(index, request)

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None or found is index:
            return Response("not found", status_code=404, media_type="text/plain", headers=dict(HEADERS))
        return _serve(found, request)

    async def slash(request: Request) -> Response:
        return RedirectResponse("/console", status_code=308)

    return [
        Route("/console", page, methods=["GET", "HEAD"]),
        Route("/console/", slash, methods=["GET", "HEAD"]),
        Route("/console/assets/{name}", asset, methods=["GET", "HEAD"]),
    ]
