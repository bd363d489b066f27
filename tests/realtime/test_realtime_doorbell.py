"""The Redis doorbell against a real Redis: what one process rings reaches another's hub, a process ignores
its own rings, large batches go as a sequence number, and every (re)subscribe makes the hub read the log."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from helpline.core.model import Actor, ActorType, Event
from helpline.realtime import doorbell as doorbell_module
from helpline.realtime.doorbell import Doorbell, channel_for

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))
from cluster import redis_url, require_redis


class FakeHub:
    """The receiving side: what the doorbell hands over, and how often it asked for a read of the log."""

    def __init__(self) -> None:
        self.last_seq = 0
        self.published: list[Event] = []
        self.wakes = 0

    def publish(self, events: list[Event]) -> None:
        self.published.extend(events)

    def wake(self) -> None:
        self.wakes += 1


def _event(seq: int, text: str = "hi") -> Event:
    return Event(
        seq=seq,
        account_id=1,
        type="message.created",
        data={"message": {"content": text}},
        actor=Actor(ActorType.CONTACT, 7),
        created_at=1.5,
        conversation_id=3,
        department_id=2,
    )


async def _until(predicate: object, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not (callable(predicate) and predicate()):
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


@pytest.fixture
def url() -> str:
    found = redis_url()
    require_redis(found)
    return found


def test_the_channel_is_the_clusters_own() -> None:
    assert channel_for("postgresql://h/db?options=-csearch_path%3Da") != channel_for(
        "postgresql://h/db?options=-csearch_path%3Db"
    )
    assert channel_for("postgresql://h/db", "mine") == "mine"


def test_rings_reach_the_other_process_and_not_their_own(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    channel = "helpline:test:" + Path(__file__).stem + str(id(url))

    async def scenario() -> None:
        stop = asyncio.Event()
        here, there = FakeHub(), FakeHub()
        ringing = Doorbell(url, channel, here)
        hearing = Doorbell(url, channel, there)
        tasks = [asyncio.create_task(d.run(stop)) for d in (ringing, hearing)]
        await _until(lambda: ringing.subscribed and hearing.subscribed)
        assert there.wakes >= 1  # subscribing reads the log at once
        ringing.ring([_event(1), _event(2)])
        await _until(lambda: len(there.published) == 2)
        assert there.published == [_event(1), _event(2)]
        assert here.published == []  # its own ring: its hub had them from the store
        monkeypatch.setattr(doorbell_module, "MAX_EVENTS_BYTES", 10)
        wakes = there.wakes
        ringing.ring([_event(3, "x" * 100)])
        await _until(lambda: there.wakes > wakes)  # too large: only the seq, and the hub reads the log
        assert len(there.published) == 2
        stop.set()
        await asyncio.gather(*tasks)
        assert not hearing.subscribed

    asyncio.run(scenario())


def test_redis_away_is_survived_and_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doorbell_module, "BACKOFF_MAX", 0.05)

    async def scenario() -> None:
        stop = asyncio.Event()
        hub = FakeHub()
        bell = Doorbell("redis://127.0.0.1:1/0", "nowhere", hub)  # nothing listens on port 1
        task = asyncio.create_task(bell.run(stop))
        bell.ring([_event(1)])  # publishing fails quietly: the other processes poll
        await asyncio.sleep(0.5)
        assert not bell.subscribed
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
