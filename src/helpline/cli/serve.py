"""``helpline serve``: migrate, then run the ASGI app under uvicorn (uvloop and httptools when present)."""

from __future__ import annotations

import logging

import uvicorn

from helpline.bootstrap import create_app
from helpline.cli.output import fail
from helpline.config import Settings
from helpline.store.open import open_store


def serve(settings: Settings, log_level: str = "info") -> int:
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = settings.resolved_database_url()
    try:
        store = open_store(url)
    except Exception as problem:
        return fail(f"cannot open the database {url}: {problem}")
    app = create_app(settings, store)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level, ws_max_size=1 << 20)
    return 0
