"""``helpline department create --bot-url`` and ``helpline department update``: the real console script."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpline_cli import as_json, helpline

from helpline.core.conversations import StartConversation, start_conversation
from helpline.core.model import ConversationState
from helpline.store.open import open_store


def test_a_department_with_a_bot_then_without_then_with_again(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    created = as_json(
        tmp_path,
        "department",
        "create",
        "--account",
        "1",
        "Triage",
        "--bot-url",
        "https://bot.example.org/hook",
        "--bot-accept-timeout",
        "12",
    )
    assert (created["bot_url"], created["bot_accept_timeout"], created["fell_through"]) == (
        "https://bot.example.org/hook",
        12,
        0,
    )
    assert created["bot_signing_secret"].startswith("whsec_")
    [listed] = as_json(tmp_path, "department", "list")["departments"]
    assert (listed["bot_url"], listed["bot_accept_timeout"]) == ("https://bot.example.org/hook", 12)
    assert "bot_signing_secret" not in listed  # shown once, at creation

    # A customer is with the bot when it is taken away: the department's humans get the conversation.
    store = open_store(f"sqlite:///{tmp_path / 'helpline.db'}")
    try:
        held = store.write_sync(
            lambda uow: start_conversation(
                uow, StartConversation(account_id=1, department_id=created["id"], origin_dialect="test")
            )
        )
        assert held.state is ConversationState.BOT
        removed = as_json(tmp_path, "department", "update", str(created["id"]), "--no-bot")
        assert (removed["bot_url"], removed["fell_through"]) == (None, 1)
        assert "bot_signing_secret" not in removed
        found = store.read_sync(lambda uow: uow.conversations.get(1, held.id))
        assert found is not None
        assert found.state is ConversationState.QUEUED
    finally:
        store.close_sync()

    again = as_json(
        tmp_path,
        "department",
        "update",
        str(created["id"]),
        "--bot-url",
        "https://bot2.example.org",
        "--bot-accept-timeout",
        "3",
    )
    assert (again["bot_url"], again["bot_accept_timeout"]) == ("https://bot2.example.org", 3)
    assert "bot_signing_secret" not in again  # the bot's endpoint and its secret are kept

    plain = as_json(tmp_path, "department", "create", "--account", "1", "Support")
    assert (plain["bot_url"], plain["bot_accept_timeout"]) == (None, 30)
    assert "bot_signing_secret" not in plain
    given = as_json(
        tmp_path, "department", "update", str(plain["id"]), "--bot-url", "http://bot.internal:8080/x"
    )
    assert given["bot_signing_secret"].startswith("whsec_")
    assert given["bot_signing_secret"] != created["bot_signing_secret"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("department", "update", "1"),
            "--bot-url URL, --no-bot, --bot-accept-timeout S, --sdk or --no-sdk",
        ),
        (("department", "update", "9", "--no-bot"), "department 9 does not exist"),
        (
            ("department", "update", "1", "--bot-url", "ftp://bot"),
            "bot URL must be an http(s) URL",
        ),
        (
            ("department", "update", "1", "--bot-accept-timeout", "0"),
            "bot_accept_timeout must be at least 1 second",
        ),
        (
            ("department", "update", "1", "--bot-url", "https://b.example", "--no-bot"),
            "not allowed with argument",
        ),
        (
            ("department", "create", "--account", "1", "X", "--bot-url", "mailto:bot@example.org"),
            "bot URL must be an http(s) URL",
        ),
    ],
)
def test_bad_bot_settings_are_refused(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    as_json(tmp_path, "department", "create", "--account", "1", "Triage")
    done = helpline(tmp_path, *args, "--json")
    assert done.returncode != 0
    assert done.stdout == ""
    assert message in done.stderr
    # Nothing half-written: a refused create made no department.
    assert len(as_json(tmp_path, "department", "list")["departments"]) == 1
