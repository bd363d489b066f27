"""Two ``helpline serve`` processes on one PostgreSQL database answer for the same data."""

from __future__ import annotations

from pathlib import Path

import httpx

from cluster import cluster


def test_two_processes_serve_what_the_cli_made_in_their_shared_database(tmp_path: Path) -> None:
    with cluster(tmp_path, nodes=2, redis=False) as nodes:
        account = nodes.cli("account", "create", "Acme")
        department = nodes.cli("department", "create", "--account", str(account["id"]), "Support")
        token = nodes.cli("token", "create", "--account", str(account["id"]))["token"]
        for node in nodes:
            answer = httpx.get(f"{node.url}/api/v1/departments", params={"token": token}, timeout=10)
            assert answer.status_code == 200, answer.text
            assert department["name"] in answer.text
        assert nodes[0].pid != nodes[1].pid
