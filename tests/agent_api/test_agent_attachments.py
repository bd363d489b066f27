"""Agents send files: real multipart uploads to the real server, served back with safe headers; with the
files in the data directory and in the database (``HELPLINE_FILE_STORE``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpline_testing import Receiver, RunningServer, start_server

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(5000)
FILE_STORES = ("local", "database")


@pytest.fixture(params=FILE_STORES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    with start_server(tmp_path, file_store=request.param) as running:
        yield running


def _assigned(server: RunningServer, setup: dict[str, Any]) -> str:
    headers = server.agent_headers(setup["api_key"])
    server.client.put("/api/agent/v1/presence", json={"status": "online"}, headers=headers)
    started = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
    )
    interaction = str(started.json()["data"]["interaction_hash"])
    assert (
        server.client.post(f"/api/agent/v1/conversations/{interaction}/accept", headers=headers).status_code
        == 200
    )
    return interaction


def test_an_uploaded_picture_reaches_the_customer_and_is_served_inert(
    server: RunningServer, receiver: Receiver
) -> None:
    setup = server.setup_account(webhook_url=receiver.url)
    interaction = _assigned(server, setup)
    headers = server.agent_headers(setup["api_key"])
    sent = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/attachments",
        files={
            "file": ("holiday.txt", PNG, "text/plain")
        },  # the name and the declared type lie; the bytes don't
        data={"content": "our logo"},
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["content_type"] == "image"
    assert message["content"] == "our logo"
    assert message["file"] == {"name": "holiday.txt", "size": len(PNG), "content_type": "image/png"}
    url = message["url"]
    assert url.startswith(server.url + "/files/")

    served = httpx.get(url)
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(PNG).hexdigest()
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == "inline; filename*=UTF-8''holiday.txt"
    assert "sandbox" in served.headers["content-security-policy"]

    triggers = [r.json() for r in receiver.wait_for(3)]
    assert triggers[2]["message"] == {
        "hash": message["hash"],
        "content": "our logo",
        "type": "image",
        "url": url,
    }

    listed = server.client.get(f"/api/agent/v1/conversations/{interaction}/messages", headers=headers).json()
    assert listed["messages"][-1]["url"] == url
    assert server.client.get("/api/agent/v1/limits", headers=headers).json() == {
        "max_upload_bytes": server.settings.max_upload_bytes
    }


def test_documents_download_and_unknown_keys_are_404(server: RunningServer) -> None:
    setup = server.setup_account()
    interaction = _assigned(server, setup)
    sent = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/attachments",
        files={"file": ("report.pdf", b"%PDF-1.7\n" + bytes(100), "application/pdf")},
        headers=server.agent_headers(setup["api_key"]),
    )
    assert sent.json()["content_type"] == "file"
    served = httpx.get(sent.json()["url"])
    assert served.headers["content-disposition"].startswith("attachment;")
    assert server.client.get("/files/" + "0" * 40 + "/x.png").status_code == 404
    assert server.client.get("/files/..%2F..%2Fetc/passwd").status_code == 404


@pytest.mark.parametrize("file_store", FILE_STORES)
def test_refusals_leave_no_file_behind(tmp_path: Path, file_store: str) -> None:
    with start_server(tmp_path, max_upload_bytes=4096, file_store=file_store) as server:
        setup = server.setup_account()
        interaction = _assigned(server, setup)
        headers = server.agent_headers(setup["api_key"])
        files_dir = tmp_path / "files"

        too_big = server.client.post(
            f"/api/agent/v1/conversations/{interaction}/attachments",
            files={"file": ("a.png", PNG)},
            headers=headers,
        )
        assert too_big.status_code == 413
        assert "4096" in too_big.json()["error"]["message"]

        no_file = server.client.post(
            f"/api/agent/v1/conversations/{interaction}/attachments", data={"content": "x"}, headers=headers
        )
        assert no_file.status_code == 422
        not_multipart = server.client.post(
            f"/api/agent/v1/conversations/{interaction}/attachments", json={"file": "x"}, headers=headers
        )
        assert not_multipart.status_code == 422

        rival = server.add_agent(setup["account_id"], [setup["department_id"]])
        not_theirs = server.client.post(
            f"/api/agent/v1/conversations/{interaction}/attachments",
            files={"file": ("a.txt", b"hello")},
            headers=server.agent_headers(rival["api_key"]),
        )
        assert not_theirs.status_code == 409
        assert not files_dir.exists() or not any(p.is_file() for p in files_dir.rglob("*"))
        chunks = server.store.read_sync(lambda uow: uow.db.execute("SELECT id FROM file_chunks").fetchall())
        assert chunks == []
        messages = server.client.get(
            f"/api/agent/v1/conversations/{interaction}/messages", headers=headers
        ).json()
        assert messages["messages"] == []
