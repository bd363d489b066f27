"""``/``: a browser gets a page linking the console; a program gets JSON (with the console's address)."""

from __future__ import annotations

from helpline_testing import RunningServer


def test_a_browser_gets_a_page_that_links_the_console(server: RunningServer) -> None:
    page = server.client.get("/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'href="{server.url}/console"' in page.text
    assert "/openapi/agent.json" in page.text


def test_a_program_gets_json_with_the_console_link(server: RunningServer) -> None:
    for accept in ("application/json", "*/*"):
        index = server.client.get("/", headers={"accept": accept})
        assert index.headers["content-type"].startswith("application/json")
        body = index.json()
        assert body["console"] == f"{server.url}/console"
        assert body["name"] == "Helpline"
        assert any(url.endswith("/openapi/agent.json") for url in body["openapi"])
    assert server.client.get(index.json()["console"]).status_code == 200
