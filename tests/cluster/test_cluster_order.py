"""One stream, whichever process a socket is on: the same events in the log's order, resumable on another
process, never a later event before an earlier one that is still being committed."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cluster_world import (
    Collector,
    agent_ws,
    collecting,
    post_message,
    setup_account,
    start_conversation,
)
from websockets.sync.client import connect

from cluster import Cluster, cluster, wait_until


def _log_seqs(nodes: Cluster, after: int) -> list[int]:
    with psycopg.connect(nodes.database_url) as conn:
        return [row[0] for row in conn.execute("SELECT seq FROM events WHERE seq > %s ORDER BY seq", [after])]


def _log_head(nodes: Cluster) -> int:
    with psycopg.connect(nodes.database_url) as conn:
        row = conn.execute("SELECT value FROM counters WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0


def _write_through_both(nodes: Cluster, setup: dict[str, Any], interactions: list[str], count: int) -> None:
    """``count`` messages, from eight threads at once, every other one through the other process."""

    def send(number: int) -> None:
        node = nodes[number % 2]
        answer = post_message(node, setup, interactions[number % len(interactions)], f"w{number}", client)
        assert answer.status_code == 200, answer.text

    with httpx.Client(limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(count)))


def test_sockets_of_one_agent_on_both_processes_see_the_same_stream_as_the_log(tmp_path: Path) -> None:
    with cluster(tmp_path, nodes=2) as nodes:
        a, b = nodes
        setup = setup_account(nodes)
        interactions = [start_conversation(nodes[i % 2], setup) for i in range(4)]
        with (
            collecting(agent_ws(a, setup["api_key"])) as on_a,
            collecting(agent_ws(b, setup["api_key"])) as on_b,
        ):
            start = max(on_a.ready["data"]["last_seq"], on_b.ready["data"]["last_seq"])  # type: ignore[index]
            _write_through_both(nodes, setup, interactions, 300)
            head = _log_head(nodes)
            for socket in (on_a, on_b):
                wait_until(
                    lambda socket=socket: socket.seqs()[-1:] == [head], what="the log's head on a socket"
                )
            logged = _log_seqs(nodes, start)
            assert len(logged) >= 300
            assert [s for s in on_a.seqs() if s > start] == logged
            assert [s for s in on_b.seqs() if s > start] == logged
            assert logged == list(range(start + 1, head + 1))  # gap-free in commit order


def test_reading_to_n_on_a_then_resuming_on_b_during_writes_gets_every_event_once_in_order(
    tmp_path: Path,
) -> None:
    with cluster(tmp_path, nodes=2) as nodes:
        a, b = nodes
        setup = setup_account(nodes)
        interactions = [start_conversation(a, setup), start_conversation(b, setup)]
        writing = threading.Thread(target=_write_through_both, args=(nodes, setup, interactions, 240))
        try:
            with collecting(agent_ws(a, setup["api_key"])) as on_a:
                begin = on_a.ready["data"]["last_seq"]  # type: ignore[index]
                writing.start()
                wait_until(lambda: len(on_a.seqs()) >= 60, what="some writes on A")
            read_to = on_a.seqs()[-1]
            with collecting(agent_ws(b, setup["api_key"], after=read_to)) as on_b:
                writing.join(timeout=60)
                head = _log_head(nodes)
                wait_until(lambda: on_b.seqs()[-1:] == [head], what="the log's head on B")
                seen = [s for s in on_a.seqs() if s <= read_to] + on_b.seqs()
        finally:
            if writing.is_alive():
                writing.join(timeout=60)
        assert seen == list(range(begin + 1, head + 1))
        assert seen == _log_seqs(nodes, begin)


def _sdk_setup(nodes: Cluster) -> dict[str, Any]:
    account = nodes.cli("account", "create", "Acme")["id"]
    department = nodes.cli("department", "create", "--account", str(account), "Demo", "--sdk")["id"]
    agent = nodes.cli(
        "agent", "create", "--account", str(account), "--name", "Ana", "--email", f"sdk{account}@acme.test",
        "--password", "s3cret", "--department", str(department),
    )  # fmt: skip
    return {"account_id": account, "department_id": department, "api_key": agent["api_key"]}


class SdkCollector(Collector):
    """A contact's SDK ``/ws``: subscribes with its pubsub token (and ``after``), then collects frames."""

    def __init__(self, url: str, token: str, account_id: int, after: int | None = None) -> None:
        super().__init__(url)
        self.subscribe = {"pubsub_token": token, "account_id": account_id}
        if after is not None:
            self.subscribe["after"] = after

    def start(self) -> SdkCollector:
        self._socket = self._stack.enter_context(connect(self.url, open_timeout=10))
        self._socket.send(json.dumps({"event": "subscribe", "data": self.subscribe}))
        first = json.loads(self._socket.recv(timeout=10))
        assert first["event"] == "confirm_subscription", first
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def message_ids(self) -> list[int]:
        return [f["data"]["id"] for _, f in list(self.frames) if f.get("event") == "message.created"]


def test_an_sdk_socket_resumed_on_the_other_process_gets_every_message_once_in_order(tmp_path: Path) -> None:
    with cluster(tmp_path, nodes=2) as nodes:
        a, b = nodes
        setup = _sdk_setup(nodes)
        agent = {"authorization": f"Bearer {setup['api_key']}"}
        with httpx.Client(timeout=10) as client:
            opened = client.post(f"{a.url}/api/v1/sdk/conversations", json={"name": "sdk-contact"})
            assert opened.status_code == 200, opened.text
            payload = opened.json()["payload"]
            token, conversation = payload["contactInbox"]["pubsubToken"], payload["conversation"]["id"]
            assert client.put(
                f"{b.url}/api/agent/v1/presence", json={"status": "online"}, headers=agent
            ).is_success
            accepted = client.post(f"{b.url}/api/agent/v1/conversations/{conversation}/accept", headers=agent)
            assert accepted.status_code == 200, accepted.text
            sent: list[int] = []

            def agent_says(count: int) -> None:
                with httpx.Client(timeout=10) as own:
                    for number in range(count):
                        node = nodes[number % 2]
                        said = own.post(
                            f"{node.url}/api/agent/v1/conversations/{conversation}/messages",
                            json={"content": f"s{number}"},
                            headers=agent,
                        )
                        assert said.status_code == 201, said.text
                        sent.append(said.json()["id"])

            writing = threading.Thread(target=agent_says, args=(120,))
            with SdkCollector(f"{a.ws_url}/ws", token, payload["account_id"]).start() as on_a:
                writing.start()
                wait_until(lambda: len(on_a.message_ids()) >= 30, what="some messages on A")
            read_to = on_a.message_ids()
            with SdkCollector(
                f"{b.ws_url}/ws", token, payload["account_id"], after=read_to[-1]
            ).start() as on_b:
                writing.join(timeout=60)
                wait_until(lambda: on_b.message_ids()[-1:] == sent[-1:], what="the last message on B")
                assert read_to + on_b.message_ids() == sent


def test_a_transaction_holding_the_next_seq_keeps_later_events_back_and_its_rollback_leaves_no_gap(
    tmp_path: Path,
) -> None:
    with cluster(tmp_path, nodes=2) as nodes:
        a, b = nodes
        setup = setup_account(nodes)
        interaction = start_conversation(a, setup)
        with (
            collecting(agent_ws(a, setup["api_key"])) as on_a,
            collecting(agent_ws(b, setup["api_key"])) as on_b,
        ):
            sockets = (on_a, on_b)
            before = _log_head(nodes)
            # Commit: a transaction takes seq N the way the store does and appends its event, then waits
            # while B's request (which needs N+1) queues behind it.
            with psycopg.connect(nodes.database_url) as holder:
                held = holder.execute(
                    "UPDATE counters SET value = value + 1 WHERE name = 'events' RETURNING value"
                ).fetchone()
                assert held is not None
                n = int(held[0])
                holder.execute(
                    "INSERT INTO events (seq, account_id, type, data, actor_type, actor_id, created_at)"
                    " VALUES (%s, %s, 'cluster.test', '{}', 'system', NULL, %s)",
                    [n, setup["account_id"], time.time()],
                )
                later = _in_background(lambda: post_message(b, setup, interaction, "after-n"))
                time.sleep(1.0)
                assert all(s.seqs()[-1:] in ([], [before]) for s in sockets), [s.seqs()[-3:] for s in sockets]
                holder.commit()
            assert later.result().status_code == 200
            head = _log_head(nodes)
            assert n == before + 1
            assert head > n
            for socket in sockets:
                wait_until(
                    lambda socket=socket: socket.seqs()[-1:] == [head], what="B's events on every socket"
                )
                assert [s for s in socket.seqs() if s > before] == list(range(n, head + 1))
            # Rollback: the number after the head goes back; A's message takes it, and no hub waits for a gap.
            before = head
            with psycopg.connect(nodes.database_url) as holder:
                holder.execute("UPDATE counters SET value = value + 1 WHERE name = 'events'")
                blocked = _in_background(lambda: post_message(a, setup, interaction, "after-rollback"))
                time.sleep(0.5)
                holder.rollback()
            assert blocked.result().status_code == 200
            assert post_message(b, setup, interaction, "and-on").status_code == 200
            head = _log_head(nodes)
            assert _log_seqs(nodes, before) == list(range(before + 1, head + 1))
            for socket in sockets:
                wait_until(lambda socket=socket: socket.seqs()[-1:] == [head], timeout=3, what="no stall")
                assert [s for s in socket.seqs() if s > before] == list(range(before + 1, head + 1))


class _Background:
    def __init__(self, work: Any) -> None:
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Any) -> None:
        try:
            self._result = work()
        except BaseException as problem:  # handed to the test's thread by result()
            self._error = problem

    def result(self, timeout: float = 30) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the request did not finish"
        if self._error is not None:
            raise self._error
        return self._result


def _in_background(work: Any) -> _Background:
    return _Background(work)


def test_a_token_revoked_through_a_is_refused_by_b_within_a_second_and_idempotency_spans_processes(
    tmp_path: Path,
) -> None:
    with cluster(tmp_path, nodes=2) as nodes:
        a, b = nodes
        setup = setup_account(nodes)
        interaction = start_conversation(a, setup)
        body = {"token": setup["token"], "content": "once", "type": "text"}
        with httpx.Client(timeout=10) as client:
            url = f"/api/v1/interactions/{interaction}/messages"
            first = client.post(a.url + url, json=body, headers={"Idempotency-Key": "k-1"})
            again = client.post(b.url + url, json=body, headers={"Idempotency-Key": "k-1"})
            assert first.status_code == again.status_code == 200
            assert first.json() == again.json()
            listed = client.get(
                f"{b.url}/api/agent/v1/conversations/{interaction}/messages",
                headers={"authorization": f"Bearer {setup['api_key']}"},
            ).json()["messages"]
            assert [m["content"] for m in listed] == ["once"]

            departments = f"{b.url}/api/v1/departments"
            assert (
                client.get(departments, params={"token": setup["token"]}).status_code == 200
            )  # B remembers it
            revoked = client.post(
                f"{a.url}/api/admin/v1/tokens/{setup['token_id']}/revoke",
                headers={"authorization": f"Bearer {setup['api_key']}"},
            )
            assert revoked.status_code == 200, revoked.text
            done = time.monotonic()
            while client.get(departments, params={"token": setup["token"]}).status_code == 200:
                assert time.monotonic() - done < 1.0, "B still accepts a token revoked a second ago"
                time.sleep(0.02)
