"""``serve``'s settings for running several processes: Redis from the environment or ``--redis-url``, and
log lines that name the process."""

from __future__ import annotations

import pytest

from helpline.cli.main import build_parser, settings_for
from helpline.cli.serve import server_options


def test_redis_comes_from_the_environment_and_the_flag_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_REDIS_URL", "redis://10.0.0.5:6379/0")
    monkeypatch.setenv("HELPLINE_REDIS_CHANNEL", "acme")
    parsed = build_parser().parse_args(["serve"])
    assert settings_for(parsed).redis_url == "redis://10.0.0.5:6379/0"
    assert settings_for(parsed).redis_channel == "acme"
    flagged = build_parser().parse_args(["serve", "--redis-url", "redis://127.0.0.1:6380/1"])
    assert settings_for(flagged).redis_url == "redis://127.0.0.1:6380/1"


def test_uvicorn_lines_start_with_the_node_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_NODE_NAME", "node-b")
    parsed = build_parser().parse_args(["serve"])
    formatters = server_options(settings_for(parsed), "info")["log_config"]["formatters"]
    assert all(f["fmt"].startswith("node-b ") for f in formatters.values() if "fmt" in f)
