"""The operator CLI as a user runs it: the real ``helpline`` console script in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpline_cli import as_json, helpline


def test_the_readme_walkthrough(tmp_path: Path) -> None:
    account = as_json(tmp_path, "account", "create", "Acme")
    assert account["id"] == 1
    assert account["name"] == "Acme"
    department = as_json(tmp_path, "department", "create", "--account", "1", "Support")
    assert (department["id"], department["queue"], department["queued_max_time"]) == (1, True, 900)
    token = as_json(
        tmp_path, "token", "create", "--account", "1", "--webhook-url", "http://127.0.0.1:9000/hook"
    )
    assert len(token["token"]) >= 32
    assert token["webhook_url"] == "http://127.0.0.1:9000/hook"
    assert token["signing_secret"].startswith("whsec_")
    agent = as_json(
        tmp_path, "agent", "create", "--account", "1", "--name", "Ana", "--email", "ana@acme.test",
        "--password", "s3cret", "--department", "1",
    )  # fmt: skip
    assert agent["api_key"].startswith("hla_")
    assert agent["department_ids"] == [1]
    assert as_json(tmp_path, "account", "list")["accounts"][0]["name"] == "Acme"
    assert len(as_json(tmp_path, "department", "list", "--account", "1")["departments"]) == 1
    tokens = as_json(tmp_path, "token", "list")["tokens"]
    assert "token" not in tokens[0]
    assert tokens[0]["prefix"] == token["token"][:6]
    assert as_json(tmp_path, "agent", "list")["agents"][0]["email"] == "ana@acme.test"
    assert as_json(tmp_path, "deliveries", "list") == {"deliveries": []}
    revoked = as_json(tmp_path, "token", "revoke", str(token["id"]))
    assert revoked["active"] is False
    db = tmp_path / "helpline.db"
    assert db.exists()
    stored = db.read_bytes()
    assert token["token"].encode() not in stored
    assert agent["api_key"].encode() not in stored


def test_department_options(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    department = as_json(
        tmp_path, "department", "create", "--account", "1", "Night", "--no-queue", "--queued-max-time", "30",
        "--ringing-max-time", "10", "--capacity", "2", "--auto-assign",
    )  # fmt: skip
    assert department["queue"] is False
    assert (department["queued_max_time"], department["ringing_max_time"], department["capacity"]) == (
        30,
        10,
        2,
    )
    assert department["auto_assign"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("department", "create", "--account", "7", "X"), "account 7 does not exist"),
        (
            ("agent", "create", "--account", "1", "--name", "A", "--email", "bad", "--password", "s3cret"),
            "not an email",
        ),
        (
            ("token", "create", "--account", "1", "--webhook-url", "ftp://x"),
            "webhook URL must be an http(s) URL",
        ),
        (("department", "create", "--account", "1", "X", "--capacity", "0"), "capacity must be at least 1"),
    ],
)
def test_errors_go_to_stderr_with_a_non_zero_exit(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    done = helpline(tmp_path, *args, "--json")
    assert done.returncode != 0
    assert done.stdout == ""
    assert message in done.stderr


def test_bad_database_url_is_reported(tmp_path: Path) -> None:
    done = helpline(tmp_path, "account", "list", "--database-url", "mysql://nowhere")
    assert done.returncode != 0
    assert "unsupported database URL" in done.stderr
