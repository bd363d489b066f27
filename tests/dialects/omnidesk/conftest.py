"""Support for the Omnidesk tests: the customer's ``chatServer`` (a real HTTP server on loopback that
answers the hookpoints as the seed shows and records every call, uploaded file bytes included), and a
chat world (account, department, agent with a picture, chat token) in a running server.

Registered as the module ``omnidesk_kit`` so test modules import its helpers by a name no other
directory's conftest can take.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from helpline_testing import Received, Receiver, RunningServer
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartParser

from helpline.core import admin
from helpline.core.model import Department
from helpline.dialects.omnidesk import admin as chat_admin

sys.modules.setdefault("omnidesk_kit", sys.modules[__name__])
_store_support = str(Path(__file__).parents[2] / "store")
if _store_support not in sys.path:
    sys.path.insert(0, _store_support)

from store_backends import any_database_url, any_store, postgres_module_url, sqlite_template  # noqa: E402, F401

SEED_URL = "https://www.brand.com/support"
PICTURE = "https://cdn.acme.test/ana.png"
SEED_CONFIG = {
    "chat_logo": "https://www.omnidesk.nl/img/logo_white.svg",
    "header_color": "#18e2ae",
    "chat_logo_height": "30",
    "chat_logo_width": "100",
    "chat_background_color": "#e5e5e5",
    "chat_message_customer_color": "#ffffff",
    "chat_message_customer_text_color": "#000000",
    "chat_message_agent_color": "#18e2ae",
    "chat_message_agent_text_color": "#000000",
    "chat_textarea_placeholder": "Type je vraag en druk op enter",
    "chat_introduction_html": "",
    "label_provide_email_address": "Please provide your mail address",
    "label_provide_phone_number": "Please provide your phone number",
    "placeholder_email_address": "name@domain.com",
    "placeholder_telephone_number": "0612345678",
    "start_button_color": "#232541",
    "start_chat_instructions": "Welkom! Typ je vraag, iemand van onze klantenservice komt zo bij je.",
    "session_timeout_warning": "notice: due to inactivity this session will soon close",
    "session_timeout_message": "session closed, refresh window to start a new chat",
    "file_uploaded_text": "File uploaded.",
    "agent_typing_text": "Agent typing..",
    "show_survey_after_chat": None,
}
SEED_CONFIG_RESPONSE = {
    "type": "result",
    "message": "start instructions",
    "config": SEED_CONFIG,
    "instructions": [
        {"type": "hide_reason_no_agents_available"},
        {"type": "phoneNumber", "key": "phoneNumber"},
        {"type": "show_team", "team_profile_pictures": []},
    ],
}


def sent_answer(ticket: int) -> dict[str, Any]:
    return {"type": "result", "message": "Message sent.", "ticketID": ticket}


def ticket_of(answer: Any) -> int:
    assert answer.status_code == 200, answer.text
    ticket = answer.json()["ticketID"]
    assert isinstance(ticket, int)
    assert answer.json() == sent_answer(ticket)
    return ticket


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Hook:
    """One hookpoint call as the customer's server got it."""

    path: str
    headers: dict[str, str]
    body: bytes
    fields: dict[str, str]
    files: dict[str, Upload]


async def _parse_multipart(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    async def once() -> Any:
        yield body

    form = await MultiPartParser(Headers(headers), once(), max_files=5, max_part_size=1 << 20).parse()
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[name] = Upload(value.filename or "", value.content_type or "", await value.read())
        else:
            fields[name] = value
    await form.close()
    return fields, files


def parse(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Form fields and files with real parsers: the standard library's and python-multipart's."""
    media = headers.get("content-type", "").split(";")[0].strip()
    if media == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), {}
    if media == "multipart/form-data":
        return asyncio.run(_parse_multipart(headers, body))
    return {}, {}


def _hook(request: Received) -> Hook:
    fields, files = parse(request.headers, request.body)
    return Hook(request.path, request.headers, request.body, fields, files)


def _answer(request: Received) -> tuple[bytes, str]:
    if request.path.endswith("/endSession"):
        return b'{ "message": "ok" }', "application/json"
    return b"ok", "text/plain"


@dataclass
class ChatServer(Receiver):
    """The customer's server behind ``chatServer`` (the shared loopback receiver, reading hookpoint
    forms): ``ok`` to each hookpoint (``{"message": "ok"}`` to ``/endSession``), or what ``status``
    decides."""

    status: Callable[[Hook], int] = lambda hook: 200

    def __post_init__(self) -> None:
        self.respond = lambda request: self.status(_hook(request))
        self.answer = _answer

    @property
    def hooks(self) -> list[Hook]:
        with self._lock:
            return [_hook(r) for r in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Hook]:  # type: ignore[override]
        return [_hook(r) for r in super().wait_for(count, timeout)]

    def calls(self) -> list[tuple[str, dict[str, str]]]:
        return [(h.path, h.fields) for h in self.hooks]


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    with ChatServer() as running:
        yield running


@dataclass
class ChatWorld:
    """An account whose department takes chats through a chat token, with an agent Ana (with a picture)."""

    server: RunningServer
    account_id: int
    department_id: int
    agent_id: int
    api_key: str
    account_token: str
    server_token: str
    signing_secret: str
    token_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}

    def message(
        self, session: str, chat_server: str, text: str, number: int | None = None, **more: Any
    ) -> Any:
        """``notifyUserNewChatMessage`` as URL-encoded form fields, the seed's example otherwise."""
        fields: dict[str, Any] = {
            "url": SEED_URL,
            "message": text,
            "channelID": "8",
            "chatAccountToken": self.account_token,
            "chatSessionID": session,
            "chatServer": chat_server,
        }
        if number is not None:
            fields["messageNumber"] = str(number)
        fields.update(more)
        return self.server.client.post("/api/v2/chat/notifyUserNewChatMessage", data=fields)

    def presence(self, status: str) -> None:
        answer = self.server.client.put(
            "/api/agent/v1/presence", json={"status": status}, headers=self.headers
        )
        assert answer.status_code == 200, answer.text

    def accept(self, ticket: int) -> None:
        answer = self.server.client.post(f"/api/agent/v1/conversations/{ticket}/accept", headers=self.headers)
        assert answer.status_code == 200, answer.text

    def conversation(self, ticket: int) -> dict[str, Any]:
        answer = self.server.client.get(f"/api/agent/v1/conversations/{ticket}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def messages(self, ticket: int) -> list[dict[str, Any]]:
        answer = self.server.client.get(
            f"/api/agent/v1/conversations/{ticket}/messages", headers=self.headers
        )
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["messages"]
        return found


def make_world(
    server: RunningServer,
    hide_when_offline: bool = False,
    queue: bool = True,
    name: str = "Acme",
) -> ChatWorld:
    def work(uow: Any) -> ChatWorld:
        account = admin.create_account(uow, name)
        department = admin.create_department(
            uow, Department(id=0, account_id=account.id, name="Support", queue_enabled=queue)
        )
        agent = admin.create_agent(
            uow,
            account.id,
            "Ana",
            f"ana{account.id}.{time.monotonic_ns()}@acme.test",
            "s3cret",
            [department.id],
            photo_url=PICTURE,
        )
        issued = chat_admin.create_chat_token(uow, account.id, department.id, hide_when_offline)
        return ChatWorld(
            server=server,
            account_id=account.id,
            department_id=department.id,
            agent_id=agent.agent.id,
            api_key=agent.api_key,
            account_token=issued.account_token,
            server_token=issued.server_token,
            signing_secret=issued.token.signing_secret,
            token_id=issued.token.id,
        )

    world: ChatWorld = server.store.write_sync(work)
    return world


def json_of(hook: Hook) -> Any:
    return json.loads(hook.body)
