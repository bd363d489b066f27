"""A client generated from the vendor's own OpenAPI document works against Helpline, unchanged.

The test runs ``openapi-python-client`` (from PyPI, offline) on the vendor's document into a temporary
directory and drives a real server with what it produced: create a conversation, send text and a file
(the generated client sends ``message`` as a JSON part of the multipart body), page the messages and
update receipts.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpline_testing import RunningServer
from novatalks_kit import SdkWorld

VENDOR_DOCUMENT = Path(__file__).parent / "novatalks-sdk-openapi.json"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _generate(into: Path) -> Any:
    """Generate the client package ``novatalks_client`` under ``into`` and import it."""
    generator = Path(sys.executable).parent / "openapi-python-client"
    config = into / "generator.yml"
    config.write_text("post_hooks: []\n")  # no formatter run: the generated code as generated
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(VENDOR_DOCUMENT),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(into / "novatalks_client"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return importlib.import_module("novatalks_client")


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = _generate(tmp_path)
    yield package
    for name in [n for n in sys.modules if n == "novatalks_client" or n.startswith("novatalks_client.")]:
        del sys.modules[name]


def test_a_generated_client_talks_to_helpline(world: SdkWorld, generated: Any) -> None:
    server: RunningServer = world.server
    api = importlib.import_module("novatalks_client.api.sdk")
    models = importlib.import_module("novatalks_client.models")
    types = importlib.import_module("novatalks_client.types")
    create_conversation = importlib.import_module(f"{api.__name__}.sdk_controller_create_conversation")
    create_message = importlib.import_module(f"{api.__name__}.sdk_controller_create_message")
    get_messages = importlib.import_module(f"{api.__name__}.sdk_controller_get_messages")
    update_status = importlib.import_module(f"{api.__name__}.sdk_controller_update_message_status")

    public = generated.Client(base_url=server.url, raise_on_unexpected_status=True)
    with public:
        opened = create_conversation.sync(
            client=public, body=models.SdkCreateConversationDto(name="Generated", email="gen@example.com")
        )
    assert opened is not None
    token = opened.payload.contact_inbox.pubsub_token
    conversation_id = opened.payload.conversation.id

    client = generated.AuthenticatedClient(
        base_url=server.url,
        token=token,
        prefix="",
        auth_header_name="access_token",
        raise_on_unexpected_status=True,
    )
    with client:
        text = create_message.sync_detailed(
            client=client,
            body=models.SdkControllerCreateMessageBody(
                message=models.SdkControllerCreateMessageBodyMessage(content="hello from a generated client")
            ),
        )
        assert text.status_code == 200, text.content
        with_file = create_message.sync_detailed(
            client=client,
            body=models.SdkControllerCreateMessageBody(
                attachments=types.File(payload=PNG, file_name="dot.png", mime_type="image/png"),
                message=models.SdkControllerCreateMessageBodyMessage(content="a picture", echo_id="pic-1"),
            ),
        )
        assert with_file.status_code == 200, with_file.content

        world.go_online()
        world.accept(conversation_id)
        reply = world.agent_says(conversation_id, "hello, generated client")

        page = get_messages.sync(client=client, limit="2")
        assert page is not None
        assert [m.content for m in page] == ["a picture", "hello, generated client"]
        earlier = get_messages.sync(client=client, before=str(page[0].id))
        assert earlier is not None
        assert [m.content for m in earlier] == ["hello from a generated client"]
        picture = page[0]
        assert picture.echo_id == "pic-1"
        assert picture.attachments[0].file_type == "image"

        seen = update_status.sync_detailed(
            client=client,
            body=models.SdkUpdateMessageStatusDto(
                status=models.SdkUpdateMessageStatusDtoStatus.SEEN, message_ids=[reply["id"]]
            ),
        )
        assert seen.status_code == 200, seen.content
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            mine = get_messages.sync(client=client)
            assert mine is not None
            if [m.status for m in mine if m.id == reply["id"]] == ["seen"]:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the receipt did not reach the message")
