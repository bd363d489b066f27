"""The operator's Omnidesk commands as a user runs them: the real ``helpline`` console script."""

from __future__ import annotations

from pathlib import Path

import httpx
from helpline_cli import as_json, helpline
from helpline_testing import start_server

from helpline.core.credentials import token_hash
from helpline.dialects.omnidesk.chat_config import DEFAULTS
from helpline.dialects.omnidesk.repository import OmnideskRepository


def fails(data_dir: Path, *args: str) -> str:
    done = helpline(data_dir, *args, "--json")
    assert done.returncode != 0, done.stdout
    return done.stderr


def test_chat_tokens_config_and_brands_from_the_command_line(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    as_json(tmp_path, "department", "create", "--account", "1", "Support")
    issued = as_json(
        tmp_path, "chat-token", "create", "--account", "1", "--department", "1", "--hide-when-offline"
    )
    assert issued["chatAccountToken"].isalnum()
    assert len(issued["chatAccountToken"]) >= 32
    assert issued["chatServerToken"].isalnum()
    assert issued["chatServerToken"] != issued["chatAccountToken"]
    assert issued["signing_secret"].startswith("whsec_")
    assert (issued["id"], issued["account_id"], issued["department_id"]) == (1, 1, 1)
    assert (issued["hide_when_offline"], issued["active"]) == (True, True)
    assert issued["prefix"] == issued["chatAccountToken"][:6]

    listed = as_json(tmp_path, "chat-token", "list", "--account", "1")["chat_tokens"]
    assert listed == [
        {
            k: v
            for k, v in issued.items()
            if k not in ("chatAccountToken", "chatServerToken", "signing_secret")
        }
    ]
    database = b"".join(f.read_bytes() for f in tmp_path.glob("helpline.db*"))
    assert issued["prefix"].encode() in database  # the check is real: what is kept is found
    # only hashes of the tokens are kept, and the signing secret is sealed under the server key
    for secret in (issued["chatAccountToken"], issued["chatServerToken"], issued["signing_secret"]):
        assert secret.encode() not in database
    assert as_json(tmp_path, "chat-token", "update", "1", "--show-when-offline")["hide_when_offline"] is False
    required = as_json(tmp_path, "chat-token", "update", "1", "--require-token")
    assert (required["require_token"], required["hide_when_offline"]) == (True, False)
    assert as_json(tmp_path, "chat-token", "update", "1", "--no-require-token")["require_token"] is False
    assert "nothing to change" in fails(tmp_path, "chat-token", "update", "1")

    shown = as_json(tmp_path, "chat-config", "show", "--account", "1")
    assert shown["config"] == DEFAULTS
    assert (shown["ask_phone_number"], shown["show_team"]) == (False, False)
    changed = as_json(
        tmp_path, "chat-config", "set", "--account", "1",
        "header_color=#123456", "chat_textarea_placeholder=Ask away", "show_team=yes",
        "show_survey_after_chat=survey-7", "chat_introduction_html=<b>Hi</b> = hello",
    )  # fmt: skip
    assert changed["config"]["header_color"] == "#123456"
    assert changed["config"]["chat_textarea_placeholder"] == "Ask away"
    assert changed["config"]["show_survey_after_chat"] == "survey-7"
    assert changed["config"]["chat_introduction_html"] == "<b>Hi</b> = hello"
    assert changed["show_team"] is True
    assert as_json(tmp_path, "chat-config", "show", "--account", "1") == changed

    assert "header_color must be a colour" in fails(
        tmp_path, "chat-config", "set", "--account", "1", "header_color=red"
    )
    assert "unknown chat configuration key colour" in fails(
        tmp_path, "chat-config", "set", "--account", "1", "colour=1"
    )
    assert "expected KEY=VALUE" in fails(tmp_path, "chat-config", "set", "--account", "1", "header_color")
    assert "account 9 does not exist" in fails(tmp_path, "chat-config", "show", "--account", "9")
    assert "department 5 does not exist" in fails(
        tmp_path, "chat-token", "create", "--account", "1", "--department", "5"
    )

    brand = as_json(tmp_path, "brand", "create", "--account", "1", "Acme Shop", "--department", "1")
    assert (brand["id"], brand["name"], brand["department_id"]) == (1, "Acme Shop", 1)
    assert as_json(tmp_path, "brand", "list", "--account", "1")["brands"] == [brand]
    assert "a brand needs a name" in fails(tmp_path, "brand", "create", "--account", "1", " ")

    revoked = as_json(tmp_path, "chat-token", "revoke", "1")
    assert revoked["active"] is False
    assert "chat token 7 does not exist" in fails(tmp_path, "chat-token", "revoke", "7")


def test_a_token_made_by_the_cli_opens_chats_on_the_server(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    as_json(tmp_path, "department", "create", "--account", "1", "Support")
    issued = as_json(
        tmp_path, "chat-token", "create", "--account", "1", "--department", "1", "--hide-when-offline"
    )
    as_json(tmp_path, "chat-config", "set", "--account", "1", "agent_typing_text=Ana is typing")
    with start_server(tmp_path) as server:
        stored = server.store.read_sync(
            lambda uow: OmnideskRepository.from_uow(uow).token_by_hash(token_hash(issued["chatAccountToken"]))
        )
        assert stored is not None
        assert stored.id == issued["id"]
        config = httpx.get(
            f"{server.url}/requestChatConfig",
            params={
                "chatAccountToken": issued["chatAccountToken"],
                "chatServerToken": issued["chatServerToken"],
            },
        ).json()
        assert config["config"]["agent_typing_text"] == "Ana is typing"
        assert config["instructions"] == [{"type": "hide_reason_no_agents_available"}]
