"""``/widget.js`` and ``/widget/{name}``: served to any site, compressed, cached by ETag, small."""

from __future__ import annotations

import gzip

from helpline_testing import RunningServer

MODULES = ("app.js", "api.js", "state.js", "i18n.js", "styles.js")


def test_the_widget_files_are_served_to_any_site_compressed_and_small(server: RunningServer) -> None:
    loader = server.client.get(
        "/widget.js", headers={"accept-encoding": "gzip", "origin": "https://a.example"}
    )
    assert loader.status_code == 200
    assert loader.headers["content-type"] == "text/javascript; charset=utf-8"
    assert loader.headers["content-encoding"] == "gzip"
    assert loader.headers["access-control-allow-origin"] == "*"
    assert loader.headers["x-content-type-options"] == "nosniff"
    assert "window.Helpline" in loader.text
    again = server.client.get("/widget.js", headers={"if-none-match": loader.headers["etag"]})
    assert again.status_code == 304
    total = 0
    for name in ("widget.js", *(f"widget/{m}" for m in MODULES)):
        plain = server.client.get(f"/{name}", headers={"accept-encoding": "identity"})
        assert plain.status_code == 200, name
        assert "content-encoding" not in plain.headers
        total += len(gzip.compress(plain.content))
    assert total < 30 * 1024
    assert len(gzip.compress(server.client.get("/widget.js").content)) < 1024
    missing = server.client.get("/widget/nothing.js")
    assert missing.status_code == 404
