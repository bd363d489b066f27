"""Support for the Novatalks SDK tests: the vendor's OpenAPI schema as a checker of every response, a
client that runs it on everything it receives, an SDK world (account, inbox, agent) in a running server,
and a websocket client that speaks ``/ws``.

The schema file next to this module is a copy of ``shared/reference/novatalks-sdk-openapi.json`` (a test
keeps the two equal while the shared one is there). Read per ``shared/api-notes.md``: it never marks a
field nullable while the seed shows nulls, so a field it types as string or object may be null; all else
holds (required keys, types, enums). One fix, from the schema's own example: ``MessageData.attachments``
is typed ``object`` with the example ``[]`` (an array, as in ``SdkMessageData``).
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
from helpline_testing import RunningServer
from jsonschema import Draft202012Validator
from websockets.sync.client import ClientConnection, connect

from helpline.core import admin, inboxes
from helpline.core.model import Department

SCHEMA_FILE = Path(__file__).with_name("novatalks-sdk-openapi.json")
# SHA-256 of the vendor's OpenAPI document as published (the project's shared reference copy, which
# lives outside the repository): the copy beside this file must stay byte for byte the vendor's.
VENDOR_SCHEMA_SHA256 = "31c6546bd6b701d449bcae925e4ab30bb907530110ece972538c3ad9d1d075e6"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _relax(node: Any) -> Any:
    """Let every property typed string or object (without an enum) be null too."""
    if isinstance(node, dict):
        relaxed = {key: _relax(value) for key, value in node.items()}
        for prop in relaxed.get("properties", {}).values():
            if prop.get("type") in ("string", "object") and "enum" not in prop:
                prop["type"] = [prop["type"], "null"]
        return relaxed
    if isinstance(node, list):
        return [_relax(item) for item in node]
    return node


class VendorSchema:
    def __init__(self) -> None:
        document = json.loads(SCHEMA_FILE.read_text())
        components = copy.deepcopy(document["components"])
        attachments = components["schemas"]["MessageData"]["properties"]["attachments"]
        assert attachments["type"] == "object"
        assert attachments["example"] == []
        attachments["type"] = "array"
        self.document = document
        self.components = _relax(components)
        self.paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path, operations)
            for path, operations in document["paths"].items()
        ]
        self.checked: list[tuple[str, str, int]] = []

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator({**schema, "components": self.components})

    def named(self, name: str) -> Draft202012Validator:
        return self.validator({"$ref": f"#/components/schemas/{name}"})

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for pattern, _, operations in self.paths:
            if pattern.match(path) and method.lower() in operations:
                found: dict[str, Any] = operations[method.lower()]
                return found
        return None

    def check_response(self, method: str, path: str, response: httpx.Response) -> None:
        """Whatever the server answered must be what the vendor's API would answer."""
        status = response.status_code
        assert status < 500, f"{method} {path} answered {status}: {response.text}"
        self.checked.append((method, path, status))
        if status >= 400:
            body = response.json()
            self.named("ExceptionBadRequest").validate(body)
            assert body["statusCode"] == status
            assert body["error"] == HTTPStatus(status).phrase
            assert body["message"].strip()
            return
        assert status == 200, f"{method} {path} answered {status}"
        operation = self.operation(method, path)
        declared = (operation or {}).get("responses", {}).get("200", {}).get("content")
        if declared is not None:
            self.validator(declared["application/json"]["schema"]).validate(response.json())
        elif method.upper() == "GET":
            response.json()  # declared without a body shape (settings): JSON all the same
        else:
            assert response.content == b"", f"{method} {path} should answer with no body: {response.text}"

    def check_message(self, data: dict[str, Any]) -> None:
        self.named("SdkMessageData").validate(data)
        for attachment in data["attachments"]:
            self.named("SdkMessageAttachmentData").validate(attachment)
        assert UUID.match(data["dialog_id"])

    def check_frame(self, frame: dict[str, Any]) -> None:
        name, data = frame["event"], frame.get("data")
        if name in ("message.created", "message.updated", "message.deleted", "message.reaction_updated"):
            assert isinstance(data, dict)
            self.check_message(data)
        elif name == "conversation.status_changed":
            assert isinstance(data, dict)
            self.named("SdkConversationData").validate(data)
            assert UUID.match(data["dialog_id"])
        elif name == "typing":
            assert isinstance(data, dict)
            assert data["sender_type"] in ("User", "Contact")
            assert set(data) == {"conversation_id", "sender", "sender_type"}


class SdkClient:
    """``httpx.Client`` calls, each answer checked against the vendor's schema."""

    def __init__(self, client: httpx.Client, schema: VendorSchema) -> None:
        self.client = client
        self.schema = schema

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        response = self.client.request(method, url, **options)
        self.schema.check_response(method, response.request.url.path, response)
        return response

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def patch(self, url: str, **options: Any) -> httpx.Response:
        return self.request("PATCH", url, **options)

    def delete(self, url: str, **options: Any) -> httpx.Response:
        return self.request("DELETE", url, **options)


@dataclass
class Contact:
    token: str
    contact_id: int
    conversation_id: int
    account_id: int
    payload: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"access_token": self.token}


@dataclass
class SdkWorld:
    server: RunningServer
    api: SdkClient
    schema: VendorSchema
    account_id: int
    department_id: int
    identifier: str
    agent_id: int
    api_key: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def agent(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}

    def open(self, name: str = "sdk-contact-494", **body: Any) -> Contact:
        response = self.api.post("/api/v1/sdk/conversations", json={"name": name, **body})
        assert response.status_code == 200, response.text
        payload = response.json()["payload"]
        return Contact(
            token=payload["contactInbox"]["pubsubToken"],
            contact_id=payload["contact"]["id"],
            conversation_id=payload["conversation"]["id"],
            account_id=payload["account_id"],
            payload=payload,
        )

    def go_online(self, api_key: str | None = None) -> None:
        headers = {"authorization": f"Bearer {api_key or self.api_key}"}
        response = self.server.client.put(
            "/api/agent/v1/presence", json={"status": "online"}, headers=headers
        )
        assert response.status_code == 200, response.text

    def accept(self, conversation_id: int) -> None:
        response = self.server.client.post(
            f"/api/agent/v1/conversations/{conversation_id}/accept", headers=self.agent
        )
        assert response.status_code == 200, response.text

    def agent_says(self, conversation_id: int, content: str = "hello", **more: Any) -> dict[str, Any]:
        response = self.server.client.post(
            f"/api/agent/v1/conversations/{conversation_id}/messages",
            json={"content": content, **more},
            headers=self.agent,
        )
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found

    def say(self, contact: Contact, content: str, echo_id: str) -> None:
        response = self.api.post(
            "/api/v1/sdk/conversations/messages",
            json={"message": {"content": content, "echo_id": echo_id}},
            headers=contact.headers,
        )
        assert response.status_code == 200, response.text

    def messages(self, contact: Contact, **params: Any) -> list[dict[str, Any]]:
        response = self.api.get("/api/v1/sdk/conversations/messages", params=params, headers=contact.headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def conversation(self, contact: Contact) -> dict[str, Any]:
        response = self.api.get("/api/v1/sdk/conversations", headers=contact.headers)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


def make_world(server: RunningServer, queue: bool = True) -> SdkWorld:
    def work(uow: Any) -> dict[str, Any]:
        account = admin.create_account(uow, "Acme")
        department = admin.create_department(
            uow, Department(id=0, account_id=account.id, name="Demo", queue_enabled=queue)
        )
        inbox = inboxes.set_open(uow, department.id, True)
        agent = admin.create_agent(
            uow, account.id, "Support", f"support{account.id}@acme.test", "s3cret", [department.id]
        )
        return {
            "account_id": account.id,
            "department_id": department.id,
            "identifier": inbox.identifier,
            "agent_id": agent.agent.id,
            "api_key": agent.api_key,
        }

    made = server.store.write_sync(work)
    schema = VendorSchema()
    return SdkWorld(server=server, api=SdkClient(server.client, schema), schema=schema, **made)


class SdkSocket:
    """A contact's ``/ws`` connection; every frame received is checked, keepalives are counted."""

    def __init__(self, connection: ClientConnection, schema: VendorSchema) -> None:
        self.connection = connection
        self.schema = schema
        self.keepalives = 0
        self.seen: list[dict[str, Any]] = []

    def send(self, frame: dict[str, Any]) -> None:
        self.connection.send(json.dumps(frame))

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame other than a keepalive."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no frame within {timeout} s; seen {[f['event'] for f in self.seen]}")
            frame = json.loads(self.connection.recv(timeout=left))
            if frame["event"] == "presence.update":
                assert frame == {"event": "presence.update", "data": {}}
                self.keepalives += 1
                continue
            self.schema.check_frame(frame)
            self.seen.append(frame)
            return dict(frame)

    def until(self, event: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """Read until a frame of ``event`` whose data has the ``match`` values; skip the others."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(0.01, deadline - time.monotonic()))
            data = frame.get("data")
            if frame["event"] == event and all(
                isinstance(data, dict) and data.get(k) == v for k, v in match.items()
            ):
                return frame

    def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Every non-keepalive frame that arrives within ``seconds``."""
        found = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                found.append(self.recv(left))
            except TimeoutError:
                break
        return found


@contextmanager
def subscribed(world: SdkWorld, contact: Contact, **resume: Any) -> Iterator[SdkSocket]:
    with connect(f"{world.server.ws_url}/ws", open_timeout=5) as connection:
        socket = SdkSocket(connection, world.schema)
        socket.send(
            {
                "event": "subscribe",
                "data": {"pubsub_token": contact.token, "account_id": contact.account_id, **resume},
            }
        )
        confirmed = socket.recv()
        assert confirmed == {"event": "confirm_subscription", "data": "confirmed"}
        yield socket
