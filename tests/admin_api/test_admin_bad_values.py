"""The admin API refuses ids past 64 bits in its own shape, authenticates before refusing a body, and
answers methods it does not serve with its own 405."""

from __future__ import annotations

import pytest
from helpline_testing import RunningServer, create_agent

ADMIN = "/api/admin/v1"
HUGE = "99999999999999999999999"


def _admin(server: RunningServer) -> dict[str, str]:
    setup = server.setup_account()
    admin = create_agent(
        server, int(setup["account_id"]), "Root", [int(setup["department_id"])], role="admin"
    )
    return server.agent_headers(admin["api_key"])


def _error(answer: object, status: int) -> str:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    message: str = answer.json()["error"]["message"]  # type: ignore[attr-defined]
    assert answer.json()["error"]["status"] == status  # type: ignore[attr-defined]
    return message


@pytest.mark.parametrize("raw", [HUGE, "¹"])
def test_path_ids_that_are_no_ids(server: RunningServer, raw: str) -> None:
    headers = _admin(server)
    assert "token id" in _error(server.client.post(f"{ADMIN}/tokens/{raw}/revoke", headers=headers), 422)
    assert "delivery id" in _error(
        server.client.post(f"{ADMIN}/deliveries/{raw}/replay", headers=headers), 422
    )
    assert "limit" in _error(
        server.client.get(f"{ADMIN}/deliveries", params={"limit": raw}, headers=headers), 422
    )


def test_body_numbers_past_64_bits(server: RunningServer) -> None:
    headers = _admin(server)
    agent = {"name": "A", "email": "a@x.test", "password": "s3cret", "department_ids": [int(HUGE)]}
    assert "department_ids" in _error(server.client.post(f"{ADMIN}/agents", json=agent, headers=headers), 422)
    department = {"name": "D", "queued_max_time": int(HUGE)}
    assert "queued_max_time" in _error(
        server.client.post(f"{ADMIN}/departments", json=department, headers=headers), 422
    )


def test_strangers_get_401_before_a_word_about_the_body(server: RunningServer) -> None:
    server.setup_account()
    _error(server.client.post(f"{ADMIN}/agents", content=b"{oops"), 401)
    _error(server.client.post(f"{ADMIN}/tokens/{HUGE}/revoke", headers={"authorization": "Bearer x"}), 401)


def test_other_methods_are_405_in_the_admin_shape(server: RunningServer) -> None:
    answer = server.client.delete(f"{ADMIN}/departments")
    assert "DELETE" in _error(answer, 405)
    assert answer.headers["allow"] == "GET, POST"
