"""Work is claimed, never duplicated, however many ``helpline serve`` processes share the database
(issue 13, tests 7-11): webhook deliveries, routing timers, capacity, accepting, external history."""

from __future__ import annotations

import itertools
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from claims_kit import Hit, Receiver, flaky, receiving, rows, setup, start_interaction, wait

from cluster import Cluster, cluster


def all_delivered(nodes: Cluster) -> bool:
    """Every committed event planned, and nothing pending."""
    [found] = rows(
        nodes,
        "SELECT (SELECT value FROM counters WHERE name = 'planned_events') AS planned,"
        " (SELECT max(seq) FROM events) AS last,"
        " (SELECT count(*) FROM deliveries WHERE state <> 'succeeded') AS unsettled",
    )
    return bool(found["planned"] >= found["last"] and found["unsettled"] == 0)


SCHEDULE = (0.0, 0.2, 0.4, 0.8, 1.6)
FAST = {"HELPLINE_WEBHOOK_RETRY_SCHEDULE": ",".join(str(s) for s in SCHEDULE)}


def test_webhooks_under_random_failures_go_once_in_order_never_two_of_a_line_and_never_early(
    tmp_path: Path,
) -> None:
    """50 conversations x 20 triggers (accepted + 19 agent messages), posted through both processes,
    to a receiver answering random 500s after random delays."""
    conversations, messages = 50, 19
    with (
        receiving(Receiver(flaky(failure_rate=0.25, max_failures=2, max_delay=0.05))) as receiver,
        cluster(tmp_path, nodes=2, redis=False, env=FAST) as nodes,
    ):
        receiver.pids = {node.pid: node.name for node in nodes}
        [world] = setup(nodes, receiver.url())
        agent = {"authorization": f"Bearer {world.agent_key}"}

        def conversation(n: int) -> None:
            via = [nodes[n % 2].url, nodes[(n + 1) % 2].url]
            interaction = start_interaction(via[0], world.token, world.department, f"client-{n}")
            with httpx.Client(timeout=30) as client:
                accepted = client.post(
                    f"{via[1]}/api/agent/v1/conversations/{interaction}/accept", headers=agent
                )
                assert accepted.status_code == 200, accepted.text
                for m in range(messages):
                    sent = client.post(
                        f"{via[m % 2]}/api/agent/v1/conversations/{interaction}/messages",
                        headers=agent,
                        json={"content": f"message {m} of {n}"},
                    )
                    assert sent.status_code in (200, 201), sent.text

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(conversation, range(conversations)))
        wait(lambda: all_delivered(nodes), timeout=60, what="every event planned and delivered")
        deliveries = rows(nodes, "SELECT * FROM deliveries ORDER BY id")
        with receiver.lock:
            hits = list(receiver.hits)

    assert len(deliveries) >= conversations * (1 + messages)
    by_id: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_id[hit.webhook_id].append(hit)
    assert set(by_id) == {d["webhook_id"] for d in deliveries}
    problems: list[str] = []
    lines: dict[tuple[int, int], list[dict[str, object]]] = defaultdict(list)
    for delivery in deliveries:
        lines[(delivery["endpoint_id"], delivery["conversation_id"])].append(delivery)
        tries = sorted(by_id[delivery["webhook_id"]], key=lambda h: h.started)
        if [t.status for t in tries].count(200) != 1 or tries[-1].status != 200:
            problems.append(f"{delivery['webhook_id']}: answered {[t.status for t in tries]}")
        if delivery["attempts"] != len(tries):
            problems.append(
                f"{delivery['webhook_id']}: {delivery['attempts']} attempts counted, {len(tries)} seen"
            )
        for done, (failed, retry) in enumerate(itertools.pairwise(tries), start=1):
            backoff = SCHEDULE[done] * 0.8  # the jitter takes at most a fifth off
            if retry.started - failed.ended < backoff - 0.02:
                problems.append(
                    f"{delivery['webhook_id']}: retried {retry.started - failed.ended:.3f}s after a failure"
                )
    assert len(lines) == conversations
    for line, queue in lines.items():
        tries = [sorted(by_id[str(d["webhook_id"])], key=lambda h: h.started) for d in queue]
        flat = sorted((hit for group in tries for hit in group), key=lambda h: h.started)
        for first, second in itertools.pairwise(flat):
            if second.started < first.ended - 0.001:
                problems.append(f"line {line}: {first.webhook_id} and {second.webhook_id} in flight together")
        order = [h.webhook_id for h in flat if h.status == 200]
        if order != [d["webhook_id"] for d in queue]:
            problems.append(f"line {line}: delivered out of order")
    assert problems == []
    senders = {hit.sender for hit in hits}
    assert senders == {"a", "b"}, senders
