"""Fan-out across processes: a message committed by one process reaches the sockets another holds, through
the Redis doorbell when Redis is up and through polling the log when it is not, and nothing is lost while
Redis's pub/sub connection is killed or Redis restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from cluster_world import (
    agent_ws,
    collecting,
    post_message,
    private_redis,
    setup_account,
    start_conversation,
)

from cluster import cluster, wait_until

POLL_SECONDS = 0.5  # realtime.hub's default poll interval: the backstop when Redis is away


def _latencies(nodes, setup, writer, reader_socket, count: int, tag: str) -> list[float]:  # type: ignore[no-untyped-def]
    """Post ``count`` messages through ``writer`` one after the other; for each, the time from sending it
    to its frame on ``reader_socket`` (a socket held by another process)."""
    interaction = start_conversation(writer, setup)
    taken = []
    with httpx.Client() as client:
        for number in range(count):
            text = f"{tag}-{number}"
            sent = time.monotonic()
            assert post_message(writer, setup, interaction, text, client).status_code == 200
            wait_until(
                lambda text=text: reader_socket.arrival(lambda f: text in json.dumps(f)) is not None,
                timeout=5,
                every=0.002,
                what=f"{text} on the other process",
            )
            arrived = reader_socket.arrival(lambda f, text=text: text in json.dumps(f))
            assert arrived is not None
            taken.append(arrived - sent)
    return sorted(taken)


def _p(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(len(values) * fraction))]


def _assert_gap_free(seqs: list[int], first_after: int, last: int) -> None:
    assert seqs == list(range(first_after + 1, last + 1)), (seqs[:5], seqs[-5:], first_after, last)


def test_a_message_posted_through_b_reaches_a_socket_on_a_fast_with_redis_and_within_a_poll_without(
    tmp_path: Path,
) -> None:
    with (
        private_redis() as redis,
        cluster(tmp_path, nodes=2, redis=False, env={"HELPLINE_REDIS_URL": redis.url}) as nodes,
    ):
        a, b = nodes
        setup = setup_account(nodes)
        wait_until(lambda: _ready(a) and _ready(b), what="both processes subscribed to Redis")
        with collecting(agent_ws(a, setup["api_key"])) as on_a:
            with_redis = _latencies(nodes, setup, b, on_a, 40, "redis")
            redis.stop()
            wait_until(lambda: not _ready(a), what="A's /readyz saying Redis is down")
            without = _latencies(nodes, setup, b, on_a, 15, "polled")
        print(
            f"B→A with Redis: p50 {_p(with_redis, 0.5) * 1000:.1f} ms, p99 {_p(with_redis, 0.99) * 1000:.1f} ms"
        )
        print(f"B→A polling: p50 {_p(without, 0.5) * 1000:.1f} ms, p99 {_p(without, 0.99) * 1000:.1f} ms")
        # The doorbell rings in a round trip; the poll would take up to its interval (half of it typically).
        assert _p(with_redis, 0.5) < 0.1
        assert _p(with_redis, 0.99) < 0.3
        assert _p(without, 0.99) <= POLL_SECONDS + 0.5
        _assert_gap_free(on_a.seqs(), on_a.ready["data"]["last_seq"], max(on_a.seqs()))  # type: ignore[index]


def _ready(node) -> bool:  # type: ignore[no-untyped-def]
    answer = httpx.get(f"{node.url}/readyz", timeout=5)
    return answer.status_code == 200


def test_killing_the_pubsub_connection_and_restarting_redis_mid_stream_loses_nothing(tmp_path: Path) -> None:
    with (
        private_redis() as redis,
        cluster(tmp_path, nodes=2, redis=False, env={"HELPLINE_REDIS_URL": redis.url}) as nodes,
    ):
        a, b = nodes
        setup = setup_account(nodes)
        wait_until(lambda: _ready(a) and _ready(b), what="both processes subscribed to Redis")
        with (
            collecting(agent_ws(a, setup["api_key"])) as on_a,
            collecting(agent_ws(b, setup["api_key"])) as on_b,
        ):
            interaction = start_conversation(b, setup)
            sent = 0
            with httpx.Client() as client:

                def write(count: int) -> None:
                    nonlocal sent
                    for _ in range(count):
                        writer = (a, b)[sent % 2]
                        answer = post_message(writer, setup, interaction, f"m{sent}", client)
                        assert answer.status_code == 200, answer.text
                        sent += 1

                write(30)
                killed = redis.command("CLIENT", "KILL", "TYPE", "pubsub")
                assert killed.startswith(b":"), killed
                assert int(killed[1:]) >= 2, killed  # both processes' subscriptions
                write(30)
                redis.stop()
                write(30)
                redis.start()
                write(10)
                wait_until(lambda: _ready(a) and _ready(b), timeout=15, what="both subscribed again")
                write(30)
            last = int(httpx.get(f"{a.url}/readyz", timeout=5).json()["log_seq"])  # the log's head
            for socket in (on_a, on_b):
                wait_until(
                    lambda socket=socket: socket.seqs()[-1:] == [last], what="the last event on every socket"
                )
                _assert_gap_free(socket.seqs(), socket.ready["data"]["last_seq"], last)  # type: ignore[index]
            texts = [
                f["data"]["message"]["content"] for _, f in on_a.frames if f.get("event") == "message.created"
            ]
            assert texts == [f"m{i}" for i in range(sent)]
        for node in nodes:
            assert httpx.get(f"{node.url}/healthz", timeout=5).status_code == 200
            assert "Traceback" not in node.output()
