"""Bad numbers in ClientApi REST are its own refusal naming the field; other methods are its own 405."""

from __future__ import annotations

import pytest
from helpline_testing import RunningServer


@pytest.mark.parametrize("department_id", ["¹", 99999999999999999999999, "99999999999999999999999"])
def test_department_id_that_is_no_id(server: RunningServer, department_id: object) -> None:
    setup = server.setup_account()
    answer = server.client.post(
        "/api/rest/v1",
        json={
            "token": setup["token"],
            "type": "info",
            "content": "init",
            "clientId": "12",
            "departmentId": department_id,
        },
    )
    assert answer.status_code == 422
    assert answer.json()["status"] == 422
    assert "departmentId" in answer.json()["message"]


def test_other_methods_answer_405_in_the_rest_shape(server: RunningServer) -> None:
    answer = server.client.get("/api/rest/v1")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert set(answer.json()) == {"message", "status"}
