"""Processes come and go: a crash (``kill -9``) or a rolling restart loses no event and no webhook; sockets
resume on the process that stays, exactly once."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cluster_world import agent_ws, collecting, post_message, setup_account
from helpline_testing import free_port

from cluster import Cluster, Node, cluster, wait_until


@dataclass
class Hit:
    webhook_id: str
    arrived: float
    port: int  # the sender's side of the connection: which process sent it (see _local_ports)
    answered: bool = False


@dataclass
class SlowReceiver:
    """Records every webhook (by its ``webhook-id``) and holds its answer ``delay`` seconds."""

    delay: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def ids(self) -> set[str]:
        with self.lock:
            return {h.webhook_id for h in self.hits}

    def waiting_ports(self) -> set[int]:
        with self.lock:
            return {h.port for h in self.hits if not h.answered}


@contextlib.contextmanager
def slow_receiver() -> Iterator[SlowReceiver]:
    receiver = SlowReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            hit = Hit(self.headers.get("webhook-id", ""), time.monotonic(), self.client_address[1])
            with receiver.lock:
                receiver.hits.append(hit)
            time.sleep(receiver.delay)
            with contextlib.suppress(OSError):  # a sender killed meanwhile is not there to read it
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            hit.answered = True

        def log_message(self, format: str, *args: Any) -> None:
            return

    receiver.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def _deliveries(nodes: Cluster) -> dict[str, str]:
    with psycopg.connect(nodes.database_url) as conn:
        return dict(conn.execute("SELECT webhook_id, state FROM deliveries").fetchall())


def _local_ports(pid: int) -> set[int]:
    """The local TCP ports of a process's sockets (its outbound connections among them), from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _cut_off(nodes: Cluster) -> set[str]:
    with psycopg.connect(nodes.database_url) as conn:
        found = conn.execute(
            "SELECT DISTINCT d.webhook_id FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id"
            " WHERE a.status_code IS NULL AND a.error IS NULL"
        ).fetchall()
    return {row[0] for row in found}


def _log_seqs(nodes: Cluster, after: int) -> list[int]:
    with psycopg.connect(nodes.database_url) as conn:
        return [row[0] for row in conn.execute("SELECT seq FROM events WHERE seq > %s ORDER BY seq", [after])]


def _start(node: Node, setup: dict[str, Any], client: httpx.Client) -> str:
    body = {"token": setup["token"], "department_id": setup["department_id"]}
    answer = client.post(f"{node.url}/api/v1/interactions", json=body)
    assert answer.status_code == 200, answer.text
    interaction: str = answer.json()["data"]["interaction_hash"]
    return interaction


def test_kill_9_of_a_under_load_resumes_its_sockets_on_b_once_and_b_delivers_its_webhooks(
    tmp_path: Path,
) -> None:
    env = {"HELPLINE_WEBHOOK_TIMEOUT": "2"}  # the lease (timeout + margin) B waits out before taking over
    with slow_receiver() as receiver, cluster(tmp_path, nodes=2, env=env) as nodes:
        a, b = nodes
        receiver.delay = 1.0
        setup = setup_account(nodes, webhook_url=receiver.url)
        with httpx.Client(timeout=10) as client:
            interactions = [_start(nodes[i % 2], setup, client) for i in range(2)]
            with collecting(agent_ws(a, setup["api_key"])) as on_a:
                begin = on_a.ready["data"]["last_seq"]  # type: ignore[index]
                for number in range(40):  # load: messages through both, conversations (each a webhook)
                    post_message(nodes[number % 2], setup, interactions[number % 2], f"x{number}", client)
                    if number % 4 == 0:
                        _start(nodes[number % 2], setup, client)
                # Kill A while it is sending: the receiver holds a webhook that came from one of A's sockets
                # (more conversations, each a webhook, until it does).
                deadline = time.monotonic() + 20
                while not receiver.waiting_ports() & _local_ports(a.pid):
                    assert time.monotonic() < deadline, "A never sent a webhook"
                    _start(b, setup, client)
                    time.sleep(0.05)
                a.kill9()
                killed_at = time.monotonic()
                wait_until(lambda: on_a.closed is not None, what="A's socket closed by the crash")
            seen_on_a = on_a.seqs()
            after = seen_on_a[-1] if seen_on_a else begin
            for number in range(20):  # writes go on through B
                assert (
                    post_message(b, setup, interactions[number % 2], f"y{number}", client).status_code == 200
                )
            with collecting(agent_ws(b, setup["api_key"], after=after)) as on_b:
                wait_until(lambda: len(_log_seqs(nodes, begin)) > 0, what="events")
                head = _log_seqs(nodes, begin)[-1]
                wait_until(lambda: on_b.seqs()[-1:] == [head], what="the log's head on B")
                assert [s for s in seen_on_a if s > begin] + on_b.seqs() == _log_seqs(nodes, begin)

        wait_until(
            lambda: set(_deliveries(nodes).values()) == {"succeeded"},
            timeout=30,
            what="every delivery done by B",
        )
        cut_off = _cut_off(nodes)  # attempts A logged before sending and never saw the end of
        assert cut_off, "A had no webhook in flight when it was killed"
        resent = {h.webhook_id for h in receiver.hits if h.arrived > killed_at}
        assert set(_deliveries(nodes)) == receiver.ids()  # every webhook arrived, under its own webhook-id
        assert cut_off <= resent, (cut_off, resent)  # what A was sending when it died, B sent again


def test_restarting_both_processes_one_after_the_other_under_load_loses_no_event_or_webhook(
    tmp_path: Path,
) -> None:
    with slow_receiver() as receiver, cluster(tmp_path, nodes=2) as nodes:
        setup = setup_account(nodes, webhook_url=receiver.url)
        acknowledged: list[str] = []
        stop = threading.Event()

        def load() -> None:
            """Writes through whichever process answers, as a load balancer would route them."""
            number = 0
            with httpx.Client(timeout=5) as client:
                interaction = None
                while not stop.is_set():
                    for node in sorted(nodes, key=lambda n: (number + ord(n.name)) % 2):
                        try:
                            if interaction is None or number % 10 == 0:
                                interaction = _start(node, setup, client)
                            else:
                                answer = post_message(node, setup, interaction, f"r{number}", client)
                                if answer.status_code != 200:
                                    continue
                                acknowledged.append(f"r{number}")
                            break
                        except (httpx.HTTPError, AssertionError):
                            continue
                    number += 1
                    time.sleep(0.01)

        writer = threading.Thread(target=load, daemon=True)
        writer.start()
        try:
            time.sleep(1.0)
            for node in nodes:
                node.restart()
                time.sleep(1.0)
        finally:
            stop.set()
            writer.join(timeout=30)
        assert len(acknowledged) > 50
        with psycopg.connect(nodes.database_url) as conn:
            stored = {row[0] for row in conn.execute("SELECT content FROM messages")}
            seqs = [row[0] for row in conn.execute("SELECT seq FROM events ORDER BY seq")]
        assert set(acknowledged) <= stored
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        wait_until(
            lambda: set(_deliveries(nodes).values()) == {"succeeded"}, timeout=30, what="every delivery"
        )
        assert set(_deliveries(nodes)) == receiver.ids()
