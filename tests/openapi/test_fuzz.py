"""Fuzz every OpenAPI document Helpline serves (and the Novatalks vendor's own) against a real server.

Schemathesis generates requests from each document, valid and invalid, and sends them over loopback to a
server with real credentials for every surface; no answer may be a server error. Examples are derandomized
so CI runs the same requests every time, and bounded so the whole suite stays within about a minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from helpline_testing import RunningServer, start_server
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from helpline.core import admin, inboxes
from helpline.core.model import Department, Role
from helpline.dialects.novatalks.openapi import novatalks_document
from helpline.dialects.omnidesk import admin as chat_admin
from helpline.dialects.omnidesk.openapi import omnidesk_document
from helpline.openapi.documents import (
    admin_document,
    agent_document,
    omnize_rest_document,
    omnize_v1_document,
    zenvia_bot_document,
)

VENDOR_NOVATALKS = Path(__file__).parents[1] / "dialects/novatalks/novatalks-sdk-openapi.json"
EXAMPLES = 50


class Fuzzed:
    """The server and one of every credential its surfaces take."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server

        def work(uow: Any) -> dict[str, Any]:
            account = admin.create_account(uow, "Fuzz")
            department = admin.create_department(
                uow, Department(id=0, account_id=account.id, name="Support", queue_enabled=True)
            )
            inbox = inboxes.set_open(uow, department.id, True)
            agent = admin.create_agent(
                uow, account.id, "Ada", "ada@fuzz.test", "s3cret", [department.id], Role.ADMIN
            )
            token = admin.create_token(uow, account.id, None)
            chat = chat_admin.create_chat_token(uow, account.id, department.id)
            return {
                "inbox": inbox.identifier,
                "api_key": agent.api_key,
                "token": token.secret,
                "chat_account_token": chat.account_token,
            }

        made = server.store.write_sync(work)
        self.api_key: str = made["api_key"]
        self.token: str = made["token"]
        self.chat_account_token: str = made["chat_account_token"]
        opened = server.client.post(
            "/api/v1/sdk/conversations", params={"inbox": made["inbox"]}, json={"name": "Fuzz"}
        )
        opened.raise_for_status()
        self.pubsub_token: str = opened.json()["payload"]["contactInbox"]["pubsubToken"]

    def headers(self) -> dict[str, str]:
        return {
            "authorization": f"Bearer {self.api_key}",
            "access_token": self.pubsub_token,
            "apikey": self.chat_account_token,
        }

    def authorise(self, case: schemathesis.Case) -> None:
        """Put the surfaces' body and query credentials where the generated request left room."""
        if isinstance(case.body, dict):
            for name, secret in (("token", self.token), ("chatAccountToken", self.chat_account_token)):
                if name in case.body or _names(case, name):
                    case.body[name] = secret


def _names(case: schemathesis.Case, field: str) -> bool:
    schema = case.operation.definition.raw.get("requestBody", {}).get("content", {})
    return any(field in json.dumps(media.get("schema", {})) for media in schema.values())


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    with start_server(tmp_path_factory.mktemp("fuzz"), max_upload_bytes=64 * 1024) as server:
        yield Fuzzed(server)


def _check(case: schemathesis.Case, fuzzed: Fuzzed, checks: list[Any]) -> None:
    fuzzed.authorise(case)
    case.call_and_validate(base_url=fuzzed.server.url, headers=fuzzed.headers(), checks=checks, timeout=30)


def _fuzz_test(document: dict[str, Any], typed_answers: bool = False) -> Any:
    """One test per operation of ``document``, each sending ``EXAMPLES`` derandomized requests."""
    loaded = schemathesis.openapi.from_dict({k: v for k, v in document.items() if k != "servers"})

    @loaded.parametrize()
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def test(case: schemathesis.Case, fuzzed: Fuzzed) -> None:
        _check(case, fuzzed, checks)

    # The native documents describe every answer: what comes back must fit them, too.
    checks: list[Any] = (
        [not_a_server_error, response_schema_conformance] if typed_answers else [not_a_server_error]
    )

    return test


test_agent_api = _fuzz_test(agent_document(), typed_answers=True)
test_admin_api = _fuzz_test(admin_document(), typed_answers=True)
test_omnize_v1 = _fuzz_test(omnize_v1_document())
test_omnize_rest = _fuzz_test(omnize_rest_document())
test_zenvia_bot = _fuzz_test(zenvia_bot_document())
test_omnidesk = _fuzz_test(omnidesk_document())
test_novatalks_sdk = _fuzz_test(novatalks_document())
test_novatalks_vendor_document = _fuzz_test(json.loads(VENDOR_NOVATALKS.read_text()))


def test_every_served_document_is_fuzzed(fuzzed: Fuzzed) -> None:
    """The documents above are the ones the server lists: a new one cannot go unfuzzed."""
    listed = httpx.get(fuzzed.server.url + "/").json()["openapi"]
    served = [httpx.get(url).json() for url in listed]
    fuzzed_titles = {
        doc["info"]["title"]
        for doc in (
            agent_document(),
            admin_document(),
            omnize_v1_document(),
            omnize_rest_document(),
            zenvia_bot_document(),
            omnidesk_document(),
            novatalks_document(),
        )
    }
    assert len(served) == 7
    assert {doc["info"]["title"] for doc in served} == fuzzed_titles
