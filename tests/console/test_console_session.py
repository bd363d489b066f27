"""Console sign-in over HTTP: the session cookie, its origin checks, the websocket with it, and serving.

These talk to the real server with httpx and a real websocket client; the browser tests drive the same
paths through Chromium.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from helpline_testing import RunningServer
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from helpline.agent_api.session import COOKIE, SESSION_SECONDS
from helpline.core.credentials import token_hash

SESSION = "/api/agent/v1/session"


PASSWORD = "s3cret"  # what the test helpers give every agent


def sign_in(server: RunningServer, email: str, password: str = PASSWORD) -> str:
    response = server.client.post(SESSION, json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    cookie = response.cookies.get(COOKIE)
    assert cookie
    server.client.cookies.clear()  # each call below says which cookie it sends
    return str(cookie)


def with_cookie(token: str, origin: str | None = None) -> dict[str, str]:
    headers = {"cookie": f"{COOKIE}={token}"}
    if origin:
        headers["origin"] = origin
    return headers


def test_sign_in_sets_an_httponly_strict_expiring_cookie_that_works_like_the_api_key(
    server: RunningServer,
) -> None:
    setup = server.setup_account()
    response = server.client.post(
        SESSION, json={"email": f"ANA{setup['account_id']}@acme.test ", "password": "s3cret"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["agent"]["id"] == setup["agent_id"]
    assert response.json()["expires_at"] > time.time() + SESSION_SECONDS - 60
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE}=hls_")
    flags = {part.strip().lower() for part in set_cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", f"max-age={SESSION_SECONDS}"} <= flags
    assert response.headers["cache-control"] == "no-store"
    token = str(response.cookies[COOKIE])
    server.client.cookies.clear()

    # Only the hash is stored.
    stored = server.store.read_sync(lambda uow: uow.console_sessions.agent_id(token_hash(token), uow.now))
    assert stored == setup["agent_id"]
    assert server.store.read_sync(lambda uow: uow.console_sessions.agent_id(token, uow.now)) is None

    me = server.client.get("/api/agent/v1/me", headers=with_cookie(token))
    assert me.status_code == 200
    assert me.json()["id"] == setup["agent_id"]
    online = server.client.put(
        "/api/agent/v1/presence", json={"status": "online"}, headers=with_cookie(token, server.url)
    )
    assert online.status_code == 200, online.text
    assert online.json()["presence"] == "online"
    listed = server.client.get("/api/agent/v1/conversations?status=queued", headers=with_cookie(token))
    assert listed.status_code == 200


def test_wrong_credentials_and_bad_bodies_are_refused_without_a_cookie(server: RunningServer) -> None:
    setup = server.setup_account()
    for body in (
        {"email": f"ana{setup['account_id']}@acme.test", "password": "nope"},
        {"email": "nobody@acme.test", "password": "s3cret"},
    ):
        refused = server.client.post(SESSION, json=body)
        assert refused.status_code == 401
        assert refused.json() == {"error": {"status": 401, "message": "wrong email or password"}}
        assert "set-cookie" not in refused.headers
    malformed = server.client.post(
        SESSION, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert "malformed JSON" in malformed.json()["error"]["message"]
    missing = server.client.post(SESSION, json={"email": "a@b.c"})
    assert missing.status_code == 422
    assert "password" in missing.json()["error"]["message"]
    nothing = server.client.get("/api/agent/v1/me")
    assert nothing.status_code == 401
    assert "sign in" in nothing.json()["error"]["message"]
    forged = server.client.get("/api/agent/v1/me", headers=with_cookie("hls_" + "0" * 48))
    assert forged.status_code == 401
    assert forged.json()["error"]["message"] == "your session has ended; sign in again"


def test_a_cookie_sent_by_another_sites_page_cannot_change_anything(server: RunningServer) -> None:
    setup = server.setup_account()
    token = sign_in(server, f"ana{setup['account_id']}@acme.test")
    evil = "https://evil.example"
    changed = server.client.put(
        "/api/agent/v1/presence", json={"status": "online"}, headers=with_cookie(token, evil)
    )
    assert changed.status_code == 403
    assert changed.json()["error"]["message"] == "refused: this request came from another site's page"
    agent = server.store.read_sync(lambda uow: uow.agents.get(setup["agent_id"]))
    assert agent is not None
    assert agent.presence.value == "offline"
    # Reading is harmless (and SameSite=Strict keeps the cookie off cross-site requests anyway).
    assert server.client.get("/api/agent/v1/me", headers=with_cookie(token, evil)).status_code == 200
    # A sign-in posted from another site is refused too (no session fixation from outside).
    posted = server.client.post(
        SESSION,
        json={"email": f"ana{setup['account_id']}@acme.test", "password": "s3cret"},
        headers={"origin": evil},
    )
    assert posted.status_code == 403
    # An API key is not browser-driven: no origin check for it.
    keyed = server.client.put(
        "/api/agent/v1/presence",
        json={"status": "away"},
        headers={**server.agent_headers(setup["api_key"]), "origin": evil},
    )
    assert keyed.status_code == 200


def test_sign_out_ends_the_session_on_the_server_and_expired_sessions_are_refused(
    server: RunningServer,
) -> None:
    setup = server.setup_account()
    token = sign_in(server, f"ana{setup['account_id']}@acme.test")
    other = sign_in(server, f"ana{setup['account_id']}@acme.test")
    out = server.client.delete(SESSION, headers=with_cookie(token, server.url))
    assert out.status_code == 200
    assert out.json() == {"signed_out": True}
    cleared = out.headers["set-cookie"].lower()
    assert cleared.startswith(f"{COOKIE}=")
    assert "max-age=0" in cleared
    assert server.client.get("/api/agent/v1/me", headers=with_cookie(token)).status_code == 401
    assert (
        server.client.get("/api/agent/v1/me", headers=with_cookie(other)).status_code == 200
    )  # only that one

    expired = "hls_expired_" + "1" * 40
    server.store.write_sync(
        lambda uow: uow.console_sessions.create(
            setup["agent_id"], token_hash(expired), uow.now - 10, uow.now - 1
        )
    )
    assert server.client.get("/api/agent/v1/me", headers=with_cookie(expired)).status_code == 401
    # Signing in again sweeps expired sessions away: the row is gone, not just too old.
    assert server.store.read_sync(
        lambda uow: uow.console_sessions.agent_id(token_hash(expired), uow.now - 60)
    )
    sign_in(server, f"ana{setup['account_id']}@acme.test")
    gone = server.store.read_sync(
        lambda uow: uow.console_sessions.agent_id(token_hash(expired), uow.now - 60)
    )
    assert gone is None


def test_the_websocket_takes_the_cookie_only_from_this_servers_own_pages(server: RunningServer) -> None:
    setup = server.setup_account()
    token = sign_in(server, f"ana{setup['account_id']}@acme.test")
    url = f"{server.ws_url}/api/agent/v1/ws"
    with connect(url, additional_headers=with_cookie(token, server.url), open_timeout=5) as socket:
        ready = json.loads(socket.recv(timeout=5))
        assert ready["event"] == "ready"
        assert ready["data"]["agent_id"] == setup["agent_id"]
        server.client.put("/api/agent/v1/presence", json={"status": "online"}, headers=with_cookie(token))
        frame = json.loads(socket.recv(timeout=5))
        assert frame["event"] == "agent.presence"
        assert frame["data"]["status"] == "online"
    for origin in ("https://evil.example", None):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers=with_cookie(token, origin), open_timeout=5)
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        connect(url, additional_headers=with_cookie("hls_forged", server.url), open_timeout=5)
    # The API key needs no Origin (agents' own tools are not browsers).
    with connect(f"{url}?api_key={setup['api_key']}", open_timeout=5) as socket:
        assert json.loads(socket.recv(timeout=5))["event"] == "ready"


def test_an_upload_with_the_session_cookie_is_sent_as_the_signed_in_agent(server: RunningServer) -> None:
    setup = server.setup_account()
    headers = server.agent_headers(setup["api_key"])
    server.client.put("/api/agent/v1/presence", json={"status": "online"}, headers=headers)
    started = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
    )
    interaction = started.json()["data"]["interaction_hash"]
    token = sign_in(server, f"ana{setup['account_id']}@acme.test")
    cookie = with_cookie(token, server.url)
    assert (
        server.client.post(f"/api/agent/v1/conversations/{interaction}/accept", headers=cookie).status_code
        == 200
    )
    limits = server.client.get("/api/agent/v1/limits", headers=cookie)
    assert limits.json() == {"max_upload_bytes": server.settings.max_upload_bytes}
    sent = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/attachments",
        files={"file": ("notes.txt", b"plain words\n", "text/plain")},
        headers=cookie,
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["sender"] == {"type": "agent", "id": setup["agent_id"], "name": "Ana"}
    assert sent.json()["file"]["name"] == "notes.txt"


def test_the_console_is_served_from_the_package_with_a_strict_policy(server: RunningServer) -> None:
    page = server.client.get("/console")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    for label in ('for="signin-email">Email<', 'for="signin-password">Password<', ">Sign in<"):
        assert label in page.text
    # Every file the page loads comes from this server, and each module (followed through every import,
    # an import statement may span lines) imports only its siblings.
    referenced = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert referenced
    assert all(ref.startswith("/console/assets/") for ref in referenced)
    modules = 0
    for ref in referenced:
        asset = server.client.get(ref)
        assert asset.status_code == 200, ref
        if ref.endswith(".js"):
            modules += 1
            assert asset.headers["content-type"] == "text/javascript; charset=utf-8"
            imports = re.findall(r"^import [^;]* from '([^']+)';$", asset.text, flags=re.M)
            for module in imports:
                assert module.startswith("./"), (ref, module)
                if f"/console/assets/{module[2:]}" not in referenced:
                    referenced.append(f"/console/assets/{module[2:]}")
        etag = asset.headers["etag"]
        again = server.client.get(ref, headers={"if-none-match": etag})
        assert again.status_code == 304
    assert modules > 1  # the entry module and what it imports
    assert server.client.get("/console/assets/missing.js").status_code == 404
    assert server.client.get("/console/assets/index.html").status_code == 404
    slash = server.client.get("/console/", follow_redirects=False)
    assert slash.status_code == 308
    assert slash.headers["location"] == "/console"


def _agent_endpoints(server: RunningServer, path: str, headers: dict[str, str]) -> Any:
    response = server.client.get(f"/api/agent/v1{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_departments_and_agents_of_the_account_are_listed_for_transfers(server: RunningServer) -> None:
    setup = server.setup_account()
    other = server.setup_account()
    sales = server.add_department(setup["account_id"], "Sales")
    bob = server.add_agent(setup["account_id"], [sales], name="Bob")
    headers = server.agent_headers(setup["api_key"])
    server.client.put(
        "/api/agent/v1/presence", json={"status": "online"}, headers=server.agent_headers(bob["api_key"])
    )
    departments = _agent_endpoints(server, "/departments", headers)["departments"]
    assert [(d["id"], d["name"]) for d in departments] == [
        (setup["department_id"], "Support"),
        (sales, "Sales"),
    ]
    assert departments[0] == {
        "id": setup["department_id"],
        "name": "Support",
        "active": True,
        "queue_enabled": True,
    }
    agents = _agent_endpoints(server, "/agents", headers)["agents"]
    assert [(a["id"], a["name"], a["presence"]) for a in agents] == [
        (setup["agent_id"], "Ana", "offline"),
        (bob["agent_id"], "Bob", "online"),
    ]
    assert set(agents[0]) == {"id", "name", "presence", "photo_url", "department_ids"}
    assert other["agent_id"] not in {a["id"] for a in agents}


def _start(server: RunningServer, setup: dict[str, Any], name: str, department: int | None = None) -> str:
    response = server.client.post(
        "/api/v1/interactions",
        json={
            "token": setup["token"],
            "department_id": department or setup["department_id"],
            "customer": {"name": name, "email": f"{name.lower()}@example.com", "phone": "+55 11 5555-0101"},
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["interaction_hash"])


def test_conversations_are_searched_by_customer_or_by_what_was_said(server: RunningServer) -> None:
    setup = server.setup_account()
    headers = server.agent_headers(setup["api_key"])
    joao = _start(server, setup, "Joao")
    server.client.post(
        f"/api/v1/interactions/{joao}/messages",
        json={"token": setup["token"], "content": "My order 100% late", "type": "text"},
    )
    maria = _start(server, setup, "Maria_B")
    for interaction in (joao, maria):
        server.client.post(f"/api/agent/v1/conversations/{interaction}/finish", headers=headers)
    hidden_department = server.add_department(setup["account_id"], "Hidden")
    hidden = _start(server, setup, "Joana", hidden_department)
    server.client.post(f"/api/agent/v1/conversations/{hidden}/finish", headers=headers)
    other = server.setup_account()
    _start(server, other, "Joao")

    def found(q: str, status: str | None = "finished") -> list[str]:
        params = {"q": q} | ({"status": status} if status else {})
        response = server.client.get("/api/agent/v1/conversations", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [c["contact"]["name"] for c in response.json()["conversations"]]

    assert found("joao") == ["Joao"]  # by name, any case; not the other account's Joao
    assert found("MARIA_B@EXAMPLE") == ["Maria_B"]  # by email
    assert found("5555-0101") == ["Maria_B", "Joao"]  # by phone, newest first
    assert found("order 100%") == ["Joao"]  # by message text
    assert found("100%25") == []  # % is a character, not a wildcard
    assert found("a_b") == ["Maria_B"]  # _ too
    assert found("o") == ["Maria_B", "Joao"]  # not Joana: her department is not Ana's
    assert found("joao", status=None) == ["Joao"]
    assert found(joao) == ["Joao"]  # by the conversation's hash
    assert found("joao", status="queued") == []
    too_long = server.client.get("/api/agent/v1/conversations", params={"q": "x" * 201}, headers=headers)
    assert too_long.status_code == 422


def test_queue_positions_count_within_each_department(server: RunningServer) -> None:
    setup = server.setup_account()
    sales = server.add_department(setup["account_id"], "Sales")
    both = server.add_agent(setup["account_id"], [setup["department_id"], sales], name="Both")
    for name, department in (("A1", None), ("S1", sales), ("A2", None), ("S2", sales)):
        _start(server, setup, name, department)
    listed = server.client.get(
        "/api/agent/v1/conversations",
        params={"status": "queued"},
        headers=server.agent_headers(both["api_key"]),
    ).json()["conversations"]
    assert [(c["contact"]["name"], c["queue_position"]) for c in listed] == [
        ("A1", 1),
        ("S1", 1),
        ("A2", 2),
        ("S2", 2),
    ]
    everything = server.client.get(
        "/api/agent/v1/conversations", headers=server.agent_headers(both["api_key"])
    )
    assert {c["contact"]["name"]: c["queue_position"] for c in everything.json()["conversations"]} == {
        "A1": 1,
        "S1": 1,
        "A2": 2,
        "S2": 2,
    }
