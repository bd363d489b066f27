"""The operator CLI as a user runs it: the real ``helpline`` console script in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# The installed console script, found beside the interpreter when the virtualenv is not activated.
HELPLINE = shutil.which("helpline") or str(Path(sys.executable).with_name("helpline"))


def helpline(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    return subprocess.run(
        [HELPLINE, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def as_json(data_dir: Path, *args: str) -> dict[str, Any]:
    done = helpline(data_dir, *args, "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    parsed: dict[str, Any] = json.loads(lines[0])
    return parsed


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
            "webhook URL must start with http",
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
