"""``/api/admin/v1/departments/{id}/widget``: an admin sets the web widget's origins and looks."""

from __future__ import annotations

from helpline_testing import RunningServer, create_agent

from helpline.core import inboxes

ADMIN = "/api/admin/v1"


def test_an_admin_reads_and_changes_the_widget_of_an_inbox(server: RunningServer) -> None:
    setup = server.setup_account()
    other = server.setup_account()
    department = setup["department_id"]
    url = f"{ADMIN}/departments/{department}/widget"
    boss = create_agent(server, setup["account_id"], "Boss", [department], role="admin")
    headers = server.agent_headers(boss["api_key"])
    assert server.client.get(url, headers=server.agent_headers(setup["api_key"])).status_code == 403
    closed = server.client.put(url, json={"greeting": "Hi"}, headers=headers)
    assert closed.status_code == 422
    assert "not open to SDK clients" in closed.json()["error"]["message"]

    server.store.write_sync(lambda uow: inboxes.set_open(uow, department, True))
    changed = server.client.put(
        url,
        json={"allowed_origins": ["https://Shop.example/", "https://m.shop.example"], "prechat": "name"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["allowed_origins"] == ["https://shop.example", "https://m.shop.example"]
    assert body["prechat"] == "name"
    assert body["sdk"] is True
    assert server.client.get(url, headers=headers).json() == body
    replaced = server.client.put(url, json={"allowed_origins": ["*"], "color": "#000000"}, headers=headers)
    assert replaced.json()["allowed_origins"] == ["*"]
    assert replaced.json()["prechat"] == "name"  # what was not given stays

    bad = server.client.put(url, json={"prechat": "everything"}, headers=headers)
    assert bad.status_code == 422
    assert "pre-chat" in bad.json()["error"]["message"]
    elsewhere = f"{ADMIN}/departments/{other['department_id']}/widget"
    assert server.client.get(elsewhere, headers=headers).status_code == 404
