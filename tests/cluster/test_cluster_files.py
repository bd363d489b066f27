"""Cluster test 12: a file uploaded through one process downloads through the other, and goes out as an
Omnidesk ``uploadForCustomer`` hookpoint sent by the other, with the files in the database or in a
directory both processes share."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from pathlib import Path

import httpx
import pytest
from helpline_testing import Received, Receiver

from cluster import cluster, wait_until

STORES = {
    "database": ({"HELPLINE_FILE_STORE": "database"}, False),
    "shared-directory": ({"HELPLINE_FILE_STORE": "local"}, True),
}


def _signed(request: Received, secret: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    )
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return request.headers["webhook-signature"] == expected


@pytest.mark.parametrize("store", list(STORES))
def test_a_file_uploaded_through_a_downloads_and_goes_out_as_a_hookpoint_from_b(
    tmp_path: Path, store: str
) -> None:
    env, shared = STORES[store]
    a_gone = threading.Event()
    # The chat server refuses the file while A runs, so that the attempt that succeeds is B's.
    chat = Receiver(respond=lambda r: 200 if a_gone.is_set() or r.path != "/uploadForCustomer" else 503)
    # Retries one second apart: enough of them for A to stop and B to take over.
    env = env | {"HELPLINE_WEBHOOK_RETRY_SCHEDULE": ",".join(["0"] + ["1"] * 20)}
    with chat, cluster(tmp_path, nodes=2, redis=False, env=env, shared_files=shared) as nodes:
        a, b = nodes
        account = nodes.cli("account", "create", "Acme")["id"]
        department = nodes.cli("department", "create", "--account", str(account), "Support")["id"]
        agent = nodes.cli(
            "agent", "create", "--account", str(account), "--name", "Ana", "--email", "ana@acme.test",
            "--password", "s3cret", "--department", str(department),
        )  # fmt: skip
        token = nodes.cli("chat-token", "create", "--account", str(account), "--department", str(department))
        headers = {"authorization": f"Bearer {agent['api_key']}"}
        with httpx.Client(base_url=a.url, timeout=10) as via_a:
            assert via_a.put("/api/agent/v1/presence", json={"status": "online"}, headers=headers).is_success
            started = via_a.post(
                "/api/v2/chat/notifyUserNewChatMessage",
                data={
                    "message": "hello",
                    "url": "https://shop.example.com/cart",
                    "channelID": "8",
                    "chatAccountToken": token["chatAccountToken"],
                    "chatSessionID": "s-1",
                    "chatServer": chat.url,
                },
            )
            assert started.status_code == 200, started.text
            ticket = started.json()["ticketID"]
            assert via_a.post(f"/api/agent/v1/conversations/{ticket}/accept", headers=headers).is_success
            data = os.urandom(700_001)  # several chunks of the database store, several reads of a file
            uploaded = via_a.post(
                f"/api/agent/v1/conversations/{ticket}/attachments",
                files={"file": ("invoice.bin", data, "application/octet-stream")},
                headers=headers,
            )
        assert uploaded.status_code == 201, uploaded.text
        url: str = uploaded.json()["url"]
        assert url.startswith(a.url)

        served = httpx.get(b.url + url[len(a.url) :], timeout=10)
        assert served.status_code == 200
        assert served.content == data
        assert served.headers["content-length"] == str(len(data))
        assert served.headers["content-type"] == "application/octet-stream"
        assert served.headers["content-disposition"] == "attachment; filename*=UTF-8''invoice.bin"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["x-sha256"] == hashlib.sha256(data).hexdigest()

        def uploads() -> list[Received]:
            with chat._lock:
                return [r for r in chat.received if r.path == "/uploadForCustomer"]

        wait_until(lambda: len(uploads()) >= 1, timeout=20, what="A's first attempt at the hookpoint")
        a.stop()
        tried_by_a = len(uploads())
        a_gone.set()
        wait_until(lambda: len(uploads()) > tried_by_a, timeout=30, what="B's attempt at the hookpoint")
        sent = uploads()[tried_by_a]
        assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
        assert int(sent.headers["content-length"]) == len(sent.body)
        assert data in sent.body
        assert b'filename="invoice.bin"' in sent.body
        assert _signed(sent, token["signing_secret"])
        assert len({r.headers["webhook-id"] for r in uploads()}) == 1  # one delivery, attempted by both
