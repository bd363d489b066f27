"""``helpline department create|update --sdk`` and ``helpline sdk list|push``: the real console script."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpline_cli import as_json, helpline

from helpline.store.open import open_store


def test_opening_departments_and_configuring_push(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    created = as_json(tmp_path, "department", "create", "--account", "1", "Demo", "--sdk")
    assert created["sdk"] is True
    identifier = created["sdk_identifier"]
    assert identifier.isalnum()
    assert len(identifier) == 16
    plain = as_json(tmp_path, "department", "create", "--account", "1", "Back office")
    assert "sdk" not in plain

    closed = as_json(tmp_path, "department", "update", str(created["id"]), "--no-sdk")
    assert (closed["sdk"], closed["sdk_identifier"]) == (False, identifier)
    assert as_json(tmp_path, "sdk", "list") == {"inboxes": []}
    reopened = as_json(tmp_path, "department", "update", str(created["id"]), "--sdk")
    assert (reopened["sdk"], reopened["sdk_identifier"]) == (True, identifier)

    pushed = as_json(
        tmp_path,
        "sdk",
        "push",
        "--department",
        str(created["id"]),
        "--url",
        "https://push.example/hook",
        "--bearer",
        "s3cret",
        "--header",
        "X-App: chat",
        "--param",
        "app_id=com.example.chat",
        "--param",
        "badge=1",
    )
    assert pushed["push_webhook_url"] == "https://push.example/hook"
    assert pushed["push_header_names"] == ["authorization", "x-app"]
    assert pushed["push_params"] == {"app_id": "com.example.chat", "badge": 1}
    assert pushed["push_signing_secret"].startswith("whsec_")
    repointed = as_json(
        tmp_path, "sdk", "push", "--department", str(created["id"]), "--url", "https://push.example/v2"
    )
    assert "push_signing_secret" not in repointed  # shown once, when made
    assert repointed["push_header_names"] == []
    [listed] = as_json(tmp_path, "sdk", "list")["inboxes"]
    assert listed | {"department_id": 0} == {
        "department_id": 0,
        "account_id": 1,
        "name": "Demo",
        "sdk": True,
        "sdk_identifier": identifier,
        "push_webhook_url": "https://push.example/v2",
        "push_header_names": [],
        "push_params": {},
    }
    store = open_store(f"sqlite:///{tmp_path / 'helpline.db'}")
    try:
        endpoint = store.read_sync(
            lambda uow: uow.endpoints.get(uow.sdk.inboxes.get(created["id"]).push_endpoint_id)
        )
        assert endpoint is not None
        assert (endpoint.kind, endpoint.url, endpoint.enabled) == ("push", "https://push.example/v2", True)
    finally:
        store.close_sync()
    cleared = as_json(tmp_path, "sdk", "push", "--department", str(created["id"]), "--clear")
    assert cleared == {"department_id": created["id"], "push_webhook_url": None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sdk", "push", "--department", "1", "--url", "ftp://x"), "must start with http:// or https://"),
        (
            ("sdk", "push", "--department", "1", "--url", "https://x", "--header", "Content-Type: x"),
            "set by the server",
        ),
        (("sdk", "push", "--department", "1", "--url", "https://x", "--header", "nocolon"), "'Name: value'"),
        (("sdk", "push", "--department", "9", "--url", "https://x"), "department 9 does not exist"),
        (("department", "update", "9", "--sdk"), "department 9 does not exist"),
    ],
)
def test_bad_sdk_settings_are_refused(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    as_json(tmp_path, "department", "create", "--account", "1", "Demo")
    done = helpline(tmp_path, *args, "--json")
    assert done.returncode != 0
    assert done.stdout == ""
    assert message in done.stderr
