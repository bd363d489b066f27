"""The operator CLI as a user runs it: the real ``helpline`` console script in a subprocess."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import pytest
from helpline_cli import as_json, helpline

from helpline.cli.main import build_parser


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
    assert message in json.loads(done.stderr)["error"]  # under --json, one JSON object
    plain = helpline(tmp_path, *args)
    assert plain.returncode != 0
    assert plain.stderr.startswith("helpline: error: ")
    assert message in plain.stderr


def test_usage_errors_under_json_are_json_and_name_the_command(tmp_path: Path) -> None:
    done = helpline(tmp_path, "department", "update", "99", "--bogus", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    error = json.loads(done.stderr)
    assert error["error"] == "unrecognized arguments: --bogus"
    assert error["usage"].startswith("usage: helpline department update")
    plain = helpline(tmp_path, "department", "update", "99", "--bogus")
    assert "usage: helpline department update" in plain.stderr


def test_department_update_changes_every_setting_and_names_stay_unique(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    as_json(tmp_path, "department", "create", "--account", "1", "Support")
    as_json(tmp_path, "department", "create", "--account", "1", "Sales")
    changed = as_json(
        tmp_path, "department", "update", "1", "--name", "Help desk", "--no-queue", "--queued-max-time", "60",
        "--ringing-max-time", "20", "--capacity", "3", "--auto-assign", "--inactive",
    )  # fmt: skip
    assert changed["name"] == "Help desk"
    assert (changed["queue"], changed["queued_max_time"], changed["ringing_max_time"]) == (False, 60, 20)
    assert (changed["capacity"], changed["auto_assign"], changed["active"]) == (3, True, False)
    [listed] = [d for d in as_json(tmp_path, "department", "list")["departments"] if d["id"] == 1]
    assert listed["name"] == "Help desk"
    assert listed["queue"] is False
    back = as_json(tmp_path, "department", "update", "1", "--queue", "--no-auto-assign", "--active")
    assert (back["queue"], back["auto_assign"], back["active"], back["capacity"]) == (True, False, True, 3)

    duplicate = helpline(tmp_path, "department", "create", "--account", "1", "sales")
    assert duplicate.returncode != 0
    assert "account 1 already has a department named 'Sales' (id 2)" in duplicate.stderr
    renamed = helpline(tmp_path, "department", "update", "1", "--name", "Sales", "--json")
    assert renamed.returncode != 0
    assert "already has a department named 'Sales'" in json.loads(renamed.stderr)["error"]
    missing = helpline(tmp_path, "department", "update", "99", "--no-queue")
    assert missing.returncode == 1
    assert missing.stderr == "helpline: error: department 99 does not exist\n"
    nothing = helpline(tmp_path, "department", "update", "1")
    assert "nothing to change" in nothing.stderr
    as_json(tmp_path, "account", "create", "Globex")  # the same name in another account is fine
    assert as_json(tmp_path, "department", "create", "--account", "2", "Sales")["name"] == "Sales"


def test_every_option_says_what_it_is_for() -> None:
    undocumented = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help and not isinstance(action, argparse._HelpAction):
                undocumented.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "helpline")
    assert undocumented == []


def test_token_create_warns_when_the_guard_would_refuse_the_webhook(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    done = helpline(
        tmp_path, "token", "create", "--account", "1", "--webhook-url", "http://127.0.0.1:9000/hook"
    )
    assert done.returncode == 0
    assert "helpline: warning: refused to connect: address 127.0.0.1, a loopback address" in done.stderr
    assert "HELPLINE_OUTBOUND_ALLOW" in done.stderr
    as_json_record = as_json(
        tmp_path, "token", "create", "--account", "1", "--webhook-url", "http://127.0.0.1:9000/hook"
    )
    assert "loopback" in as_json_record["warning"]
    public = as_json(
        tmp_path, "token", "create", "--account", "1", "--webhook-url", "https://93.184.215.14/hook"
    )
    assert "warning" not in public


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = helpline(tmp_path, "serve", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr == (
        f"helpline: error: cannot listen on 127.0.0.1:{port}: another process is using it "
        "(choose another with --port)\n"
    )
    assert "startup complete" not in done.stdout + done.stderr


def test_bad_database_url_is_reported(tmp_path: Path) -> None:
    done = helpline(tmp_path, "account", "list", "--database-url", "mysql://nowhere")
    assert done.returncode != 0
    assert "unsupported database URL" in done.stderr
