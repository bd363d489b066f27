"""Work is claimed, never duplicated, however many ``helpline serve`` processes share the database
(issue 13, tests 7-11): webhook deliveries, routing timers, capacity, accepting, external history."""

from __future__ import annotations

import itertools
import json
import threading
import time
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


def replayed_loads(nodes: Cluster, ringing: float) -> tuple[dict[int, int], int]:
    """Replay the event log: each agent's highest workload (conversations ringing them or assigned to
    them) at any point, and how many offers were made. A ring that finds nobody with room is cleared
    without an event, so a ring counts only until its conversation's next event or ``ringing`` seconds
    (when it may have been cleared): a violation this finds is certain."""
    holder: dict[int, tuple[int, float]] = {}  # conversation -> (agent it rings or is assigned to, until)
    peak: dict[int, int] = defaultdict(int)
    offers, clock = 0, 0.0
    for event in rows(
        nodes, "SELECT seq, type, conversation_id, agent_id, created_at FROM events ORDER BY seq"
    ):
        conversation, kind = event["conversation_id"], event["type"]
        at = clock = max(clock, event["created_at"])  # a unit of work's time is its start, not its commit
        if kind == "conversation.offered":
            offers += 1
            holder[conversation] = (event["agent_id"], at + ringing)
        elif kind == "conversation.accepted":
            holder[conversation] = (event["agent_id"], float("inf"))
        elif kind in ("conversation.finished", "conversation.queued", "conversation.transferred"):
            holder.pop(conversation, None)
        else:
            continue
        live = [agent for agent, until in holder.values() if until > at]
        for agent in set(live):
            peak[agent] = max(peak[agent], live.count(agent))

    return dict(peak), offers


OVER_CAPACITY = (
    "SELECT agent, count(*) AS n FROM (SELECT offered_to AS agent FROM conversations"
    " WHERE state = 'queued' AND offered_to IS NOT NULL"
    " UNION ALL SELECT assignee_id FROM conversations WHERE state = 'assigned') AS held"
    " GROUP BY agent HAVING count(*) > %s"
)


def test_capacity_holds_with_conversations_started_at_once_through_both_processes(tmp_path: Path) -> None:
    """Capacity 1, six agents, 50 conversations started at once through both, while both processes
    re-ring unanswered offers every second: no agent ever rings or holds two, neither in any committed
    state (sampled all along) nor replaying the log."""
    with cluster(tmp_path, nodes=2, redis=False) as nodes:
        [world, *_] = setup(
            nodes, None, "--auto-assign", "--capacity", "1", "--ringing-max-time", "1", agents=6
        )
        over: list[object] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                over.extend(rows(nodes, OVER_CAPACITY, [1]))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with ThreadPoolExecutor(16) as pool:
                list(
                    pool.map(
                        lambda n: start_interaction(nodes[n % 2].url, world.token, world.department, f"c{n}"),
                        range(50),
                    )
                )
            time.sleep(3)  # re-rings move the offers around
        finally:
            done.set()
            sampler.join()
        peak, offers = replayed_loads(nodes, ringing=1.0)
    assert over == []
    assert max(peak.values()) == 1, peak
    assert len(peak) == 6
    assert offers > 6  # re-rung


def test_a_dozen_agents_accepting_one_conversation_through_both_processes_one_wins(tmp_path: Path) -> None:
    with cluster(tmp_path, nodes=2, redis=False) as nodes:
        [world, *others] = setup(nodes, None, agents=12)
        interaction = start_interaction(nodes[0].url, world.token, world.department, "contested")
        barrier = threading.Barrier(12)

        def accept(n: int) -> int:
            key = [world, *others][n].agent_key
            with httpx.Client(timeout=30) as client:
                barrier.wait(10)
                answer = client.post(
                    f"{nodes[n % 2].url}/api/agent/v1/conversations/{interaction}/accept",
                    headers={"authorization": f"Bearer {key}"},
                )
            return answer.status_code

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(accept, range(12)))
        accepted = rows(nodes, "SELECT agent_id FROM events WHERE type = 'conversation.accepted'")
        [conversation] = rows(nodes, "SELECT state, assignee_id FROM conversations")
    assert sorted(answers) == [200] + [409] * 11, answers
    assert [a["agent_id"] for a in accepted] == [conversation["assignee_id"]]
    assert conversation["state"] == "assigned"


def test_200_queued_conversations_expire_once_each_and_ring_once_per_period_with_both_ticking(
    tmp_path: Path,
) -> None:
    """Both processes tick every 50 ms. Two agents (room for all): each conversation rings one, then the
    other, once per ringing period, until it waited too long; then it ends ``unavailable``, once."""
    ringing, waiting, count = 1, 3, 200
    with cluster(tmp_path, nodes=2, redis=False, env={"HELPLINE_TICK_SECONDS": "0.05"}) as nodes:
        [world, *_] = setup(
            nodes,
            None,
            "--auto-assign",
            "--capacity",
            "500",
            "--ringing-max-time",
            str(ringing),
            "--queued-max-time",
            str(waiting),
            agents=2,
        )
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda n: start_interaction(nodes[n % 2].url, world.token, world.department, f"q{n}"),
                    range(count),
                )
            )
        wait(
            lambda: (
                rows(nodes, "SELECT count(*) AS n FROM conversations WHERE state = 'finished'")[0]["n"]
                == count
            ),
            timeout=60,
            what=f"{count} conversations finished",
        )
        time.sleep(0.5)  # a second expiry or ring would land by now
        events = rows(
            nodes,
            "SELECT type, conversation_id, created_at, data FROM events"
            " WHERE type IN ('conversation.finished', 'conversation.offered') ORDER BY seq",
        )
        logs = nodes[0].output() + nodes[1].output()
    finished: dict[int, list[str]] = defaultdict(list)
    offered: dict[int, list[float]] = defaultdict(list)
    for event in events:
        if event["type"] == "conversation.finished":
            finished[event["conversation_id"]].append(json.loads(event["data"])["reason"])
        else:
            offered[event["conversation_id"]].append(event["created_at"])
    assert len(finished) == count
    assert {tuple(reasons) for reasons in finished.values()} == {("unavailable",)}
    problems = [
        f"conversation {conversation} rang again after {later - earlier:.3f} s"
        for conversation, times in offered.items()
        for earlier, later in itertools.pairwise(times)
        if later - earlier < ringing - 0.05
    ]
    assert problems == []
    assert sum(len(times) > 1 for times in offered.values()) > count // 10  # re-rung, many
    assert "Traceback" not in logs
    assert "failed" not in logs.lower()


def test_an_external_history_is_fetched_once_with_both_processes_loading(tmp_path: Path) -> None:
    document = {"messages": [{"time": "2026-01-01 10:00:00", "direction": "CLIENT", "content": "earlier"}]}
    with (
        receiving(Receiver(flaky(0.0, 0, 0.0), document=document)) as server,
        cluster(tmp_path, nodes=2, redis=False) as nodes,
    ):
        server.pids = {node.pid: node.name for node in nodes}
        [world] = setup(nodes, None)
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda n: start_interaction(
                        nodes[n % 2].url,
                        world.token,
                        world.department,
                        f"h{n}",
                        external_history=server.url(f"/h/{n}"),
                    ),
                    range(20),
                )
            )
        wait(
            lambda: (
                rows(nodes, "SELECT count(*) AS n FROM conversations WHERE history_status = 'loaded'")[0]["n"]
                == 20
            ),
            timeout=30,
            what="20 histories loaded",
        )
        time.sleep(0.5)  # a second fetch would land by now
        loaded = rows(
            nodes, "SELECT conversation_id, count(*) AS n FROM history_entries GROUP BY conversation_id"
        )
        events = rows(nodes, "SELECT count(*) AS n FROM events WHERE type = 'conversation.history_loaded'")
        with server.lock:
            fetched = [hit.webhook_id for hit in server.hits]
    assert sorted(fetched) == sorted(f"/h/{n}" for n in range(20))
    assert [row["n"] for row in loaded] == [1] * 20
    assert events == [{"n": 20}]


def test_a_bot_that_never_accepts_falls_through_once_with_both_processes_ticking(tmp_path: Path) -> None:
    with (
        receiving(Receiver(flaky(0.0, 0, 0.0))) as bot,
        cluster(tmp_path, nodes=2, redis=False, env={"HELPLINE_TICK_SECONDS": "0.05"}) as nodes,
    ):
        [world] = setup(nodes, None, "--bot-url", bot.url("/bot"), "--bot-accept-timeout", "1")
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda n: start_interaction(nodes[n % 2].url, world.token, world.department, f"b{n}"),
                    range(20),
                )
            )
        wait(
            lambda: rows(nodes, "SELECT count(*) AS n FROM conversations WHERE state <> 'bot'")[0]["n"] == 20,
            timeout=30,
            what="20 conversations out of their bot",
        )
        time.sleep(0.5)  # a second fall-through would land by now
        fell = rows(
            nodes,
            "SELECT conversation_id, count(*) AS n FROM events WHERE type = 'conversation.bot_fell_through'"
            " GROUP BY conversation_id",
        )
        logs = nodes[0].output() + nodes[1].output()
    assert len(fell) == 20
    assert {row["n"] for row in fell} == {1}
    assert "Traceback" not in logs
