"""``python -m bench.hub``: what idle websockets cost the fan-out of every event.

Each event is offered by the hub to the sockets that may want it. This dispatches the same stream of
events (a contact's messages in a conversation assigned to one agent, as in ``python -m bench``) through
the hub with that one agent's socket alone — the baseline — and then with ``--idle`` more sockets that
are idle for this stream: agents of other accounts, agents of another department of the same account,
and SDK contacts of the same account with conversations of their own. It prints the time per event of
each and its ratio to the baseline, which should stay near 1: a hub that asked every socket about every
event would cost each event time in proportion to the idle sockets (measured before the hub filed
sockets by key: 83 µs per event with 1000 idle sockets of other accounts, 285 µs with 1000 of the same
account, against 5 µs).

    python -m bench.hub                 # 1000 idle sockets of each kind
    python -m bench.hub --idle 5000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

from helpline.core import events as ev
from helpline.core.model import Actor, ActorType, Event
from helpline.realtime.hub import ContactSubscriber, FrameQueue, Hub, Subscriber, Subscription

ACCOUNT, DEPARTMENT, AGENT, CONVERSATION = 1, 1, 7, 5


async def _no_events(after: int, limit: int) -> list[Event]:
    return []


def _message(seq: int) -> Event:
    return Event(
        seq=seq,
        account_id=ACCOUNT,
        type=ev.MESSAGE_CREATED,
        data={"message": {"content": f"message {seq}", "type": "text"}},
        actor=Actor(ActorType.CONTACT, 1),
        created_at=float(seq),
        conversation_id=CONVERSATION,
        department_id=DEPARTMENT,
        agent_id=AGENT,
    )


def _other_accounts(n: int) -> Subscription[str]:
    return Subscriber(
        account_id=2 + n % 10, agent_id=n, department_ids=frozenset({DEPARTMENT}), is_admin=False
    )


def _other_department(n: int) -> Subscription[str]:
    return Subscriber(account_id=ACCOUNT, agent_id=100 + n, department_ids=frozenset({2}), is_admin=False)


def _contacts(n: int) -> Subscription[str]:
    return ContactSubscriber[str](
        account_id=ACCOUNT,
        contact_id=100 + n,
        conversation_ids={1000 + n},
        protocol="sdk",
        encoder=lambda event: "frame",
    )


KINDS: dict[str, Callable[[int], Subscription[str]]] = {
    "agents of other accounts": _other_accounts,
    "agents of another department": _other_department,
    "SDK contacts, same account": _contacts,
}


def per_event_us(idle: list[Subscription[str]], events: int, repeats: int) -> float:
    """Best of ``repeats`` of the time per event to publish ``events`` events with ``idle`` subscribed."""
    best = float("inf")
    for _ in range(repeats):
        hub = Hub(_no_events, start_seq=0)
        agent = Subscriber(
            account_id=ACCOUNT,
            agent_id=AGENT,
            department_ids=frozenset({DEPARTMENT}),
            is_admin=False,
            queue=FrameQueue(limit=events),  # nobody writes them out here
        )
        hub.subscribe(agent)
        for subscriber in idle:
            hub.subscribe(subscriber)
        stream = [_message(seq) for seq in range(1, events + 1)]
        began = time.perf_counter()
        for event in stream:
            hub.publish([event])
        best = min(best, (time.perf_counter() - began) / events)
        if len(agent.queue) != events:
            raise SystemExit(f"the agent got {len(agent.queue)} frames of {events}")
    return best * 1e6


async def run(idle: int, events: int, repeats: int) -> list[tuple[str, float, float]]:
    baseline = per_event_us([], events, repeats)
    rows = [("the assigned agent's socket alone", baseline, 1.0)]
    for label, make in KINDS.items():
        spent = per_event_us([make(n) for n in range(idle)], events, repeats)
        rows.append((f"+ {idle} idle: {label}", spent, spent / baseline))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hub", description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets of each kind (default 1000)")
    parser.add_argument("--events", type=int, default=5000, help="events per measurement (default 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="measurements, the best is shown (default 5)")
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.idle, args.events, args.repeats))
    width = max(len(label) for label, _, _ in rows)
    print(f"{'':{width}}  {'us/event':>9}  {'x baseline':>10}")
    for label, spent, ratio in rows:
        print(f"{label:{width}}  {spent:9.2f}  {ratio:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
