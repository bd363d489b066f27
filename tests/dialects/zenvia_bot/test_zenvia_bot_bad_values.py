"""The bot's calls refuse ids and URLs past what Helpline can hold with the seed's 422, naming the field."""

from __future__ import annotations

import pytest
from helpline_testing import RunningServer


def _interaction(server: RunningServer) -> tuple[dict[str, object], str]:
    setup = server.setup_account()
    started = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
    )
    return setup, started.json()["data"]["interaction_hash"]


@pytest.mark.parametrize("department_id", ["¹", 99999999999999999999999])
def test_transfer_to_a_department_id_that_is_no_id(server: RunningServer, department_id: object) -> None:
    setup, interaction = _interaction(server)
    answer = server.client.put(
        f"/core/api/v1/bot/{interaction}/transfer",
        json={"token": setup["token"], "department_id": department_id},
    )
    assert (answer.status_code, answer.json()["status"]) == (422, 422)
    assert "department_id" in answer.json()["message"]


def test_an_attachment_url_with_an_open_bracket(server: RunningServer) -> None:
    setup, interaction = _interaction(server)
    answer = server.client.post(
        f"/core/api/v1/bot/{interaction}/message",
        json={
            "token": setup["token"],
            "content": "x",
            "content_type": "image",
            "attachment": {"url": "http://[x"},
        },
    )
    assert (answer.status_code, answer.json()["status"]) == (422, 422)
    assert answer.json()["message"].startswith("attachment.url is not a valid URL")
