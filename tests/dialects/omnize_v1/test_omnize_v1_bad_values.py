"""Values past what Helpline can hold are the seed's refusal naming the field, never a server error."""

from __future__ import annotations

import pytest
from helpline_testing import RunningServer

HUGE = 99999999999999999999999


@pytest.mark.parametrize("department_id", [HUGE, str(HUGE), "¹", "²", "-1"])
def test_a_department_id_that_is_no_id_is_refused_naming_it(
    server: RunningServer, department_id: object
) -> None:
    setup = server.setup_account()
    answer = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": department_id}
    )
    assert answer.status_code == 422
    assert set(answer.json()) == {"message", "status"}
    assert answer.json()["status"] == 422
    assert "department_id" in answer.json()["message"]


def test_a_query_department_id_that_is_no_id_is_refused(server: RunningServer) -> None:
    setup = server.setup_account()
    for raw in ("¹", str(HUGE)):
        answer = server.client.get(
            "/api/v1/agents/online", params={"token": setup["token"], "department_id": raw}
        )
        assert (answer.status_code, answer.json()["status"]) == (422, 422)
        assert answer.json()["message"].startswith("department_id must be a number")


def test_a_url_with_an_open_bracket_is_refused_naming_the_field(server: RunningServer) -> None:
    setup = server.setup_account()
    started = server.client.post(
        "/api/v1/interactions",
        json={
            "token": setup["token"],
            "department_id": setup["department_id"],
            "external_history": "http://[x",
        },
    )
    assert started.status_code == 422
    assert started.json()["message"].startswith("external_history is not a valid URL")
    opened = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
    ).json()["data"]["interaction_hash"]
    sent = server.client.post(
        f"/api/v1/interactions/{opened}/messages",
        json={"token": setup["token"], "type": "image/png", "url": "http://[x"},
    )
    assert sent.status_code == 422
    assert sent.json()["message"].startswith("url is not a valid URL")


def test_deep_json_is_refused(server: RunningServer) -> None:
    setup = server.setup_account()
    deep = (
        b'{"token":"' + setup["token"].encode() + b'","extra":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    )
    answer = server.client.post("/api/v1/interactions", content=deep)
    assert answer.status_code == 422
    assert "nested more than" in answer.json()["message"]


def test_a_method_the_path_does_not_serve_is_405_in_the_seed_shape(server: RunningServer) -> None:
    answer = server.client.delete("/api/v1/interactions")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.json()["status"] == 405
    assert "DELETE" in answer.json()["message"]
    both = server.client.patch("/core/api/v1/interactions/abc")
    assert (both.status_code, both.headers["allow"], both.json()["status"]) == (405, "PUT", 405)
