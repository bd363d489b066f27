"""``/readyz`` and ``/metrics`` of one process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from helpline_testing import RunningServer, start_server

from helpline.store.unit_of_work import UnitOfWork
from helpline.web import operating


def test_readyz_says_ready_without_redis_and_metrics_count_requests_by_route(server: RunningServer) -> None:
    ready = server.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    assert ready.json()["redis"] == "not configured"
    assert ready.json()["status"] == "ready"
    setup = server.setup_account()
    for _ in range(3):
        started = server.client.post(
            "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
        )
        assert started.status_code == 200
    server.client.post("/api/v1/interactions/zzqqzz/messages", json={"token": setup["token"]})
    text = server.client.get("/metrics").text
    assert 'helpline_requests_total{method="POST",route="/api/v1/interactions",status="200"} 3.0' in text
    assert 'route="/api/v1/interactions/{hash}/messages",status="422"' in text
    assert "zzqqzz" not in text  # paths never become labels
    assert "helpline_hub_lag_events 0.0" in text
    assert "helpline_database_up 1.0" in text
    assert "helpline_websockets_open" in text
    assert "helpline_redis_up" in text


def test_readyz_is_503_while_the_configured_redis_is_unreachable(tmp_path: Path) -> None:
    with start_server(tmp_path, redis_url="redis://127.0.0.1:1/0") as server:
        ready = server.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["redis"].startswith("down")
        assert ready.json()["database"] == "ok"
        assert "helpline_redis_up 0.0" in server.client.get("/metrics").text


def test_a_scrape_reads_the_database_off_the_event_loop(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a long delivery history must not stop every socket and request for its duration."""
    on_a_loop: list[bool] = []
    counted = operating._database_figures

    def figures(uow: UnitOfWork) -> dict[str, Any]:
        on_a_loop.append(asyncio._get_running_loop() is not None)
        return counted(uow)

    monkeypatch.setattr(operating, "_database_figures", figures)
    assert "helpline_database_up 1.0" in server.client.get("/metrics").text
    assert on_a_loop == [False]
