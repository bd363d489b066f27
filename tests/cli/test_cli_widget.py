"""``helpline department create --sdk --allowed-origin`` and ``helpline widget settings|snippet``."""

from __future__ import annotations

from pathlib import Path

from helpline_cli import as_json, helpline


def test_an_operator_puts_the_widget_on_a_site(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    created = as_json(
        tmp_path,
        "department", "create", "--account", "1", "Website", "--sdk",
        "--allowed-origin", "https://shop.example/", "--allowed-origin", "https://www.shop.example",
    )  # fmt: skip
    assert created["allowed_origins"] == ["https://shop.example", "https://www.shop.example"]
    identifier = created["sdk_identifier"]

    snippet = as_json(
        tmp_path, "widget", "snippet", "--department", "1", "--server", "https://helpline.example/"
    )
    assert snippet["snippet"] == (
        f'<script src="https://helpline.example/widget.js" data-inbox="{identifier}" async></script>'
    )
    plain = helpline(tmp_path, "widget", "snippet", "--department", "1", "--server", "https://h.example")
    assert plain.stdout.strip().startswith('<script src="https://h.example/widget.js"')

    changed = as_json(
        tmp_path,
        "widget", "settings", "--department", "1", "--remove-origin", "https://www.shop.example",
        "--greeting", "Hi! Ask us anything.", "--color", "#123ABC", "--prechat", "email",
    )  # fmt: skip
    assert changed == {
        "department_id": 1,
        "allowed_origins": ["https://shop.example"],
        "greeting": "Hi! Ask us anything.",
        "color": "#123abc",
        "prechat": "email",
    }
    assert as_json(tmp_path, "widget", "settings", "--department", "1") == changed
    updated = as_json(tmp_path, "department", "update", "1", "--allowed-origin", "*")
    assert updated["allowed_origins"] == ["https://shop.example", "*"]
    human = helpline(tmp_path, "widget", "settings", "--department", "1")
    assert "allowed_origins: https://shop.example, *" in human.stdout


def test_bad_settings_are_refused_with_the_reason(tmp_path: Path) -> None:
    as_json(tmp_path, "account", "create", "Acme")
    as_json(tmp_path, "department", "create", "--account", "1", "Plain")
    no_sdk = helpline(tmp_path, "department", "update", "1", "--allowed-origin", "https://a.example")
    assert no_sdk.returncode == 1
    assert "--sdk" in no_sdk.stderr
    assert helpline(tmp_path, "widget", "snippet", "--department", "1").returncode == 1
    as_json(tmp_path, "department", "update", "1", "--sdk")
    for flags, says in (
        (["--allowed-origin", "shop.example"], "scheme://host"),
        (["--color", "red"], "#rrggbb"),
    ):
        refused = helpline(tmp_path, "widget", "settings", "--department", "1", *flags)
        assert refused.returncode == 1
        assert says in refused.stderr
