"""The delivery worker against a real receiver on loopback and a real SQLite store."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest
from outbound_kit import (
    Receiver,
    Reply,
    Seen,
    World,
    make_worker,
    make_world,
    quick_settings,
    run_worker_until,
)
from standardwebhooks import Webhook

from helpline.core.model import Event
from helpline.outbound import worker as worker_module
from helpline.outbound.model import Attempt, Delivery, DeliveryState
from helpline.outbound.repository import Deliveries
from helpline.store.base import Store


def attempts(world: World, delivery_id: int) -> list[Attempt]:
    found: list[Attempt] = world.store.read_sync(lambda uow: Deliveries.from_uow(uow).attempts(delivery_id))
    return found


def settled(world: World, count: int) -> bool:
    found = world.deliveries()
    return len(found) == count and all(d.state is not DeliveryState.PENDING for d in found)


def only(world: World) -> Delivery:
    found = world.deliveries()
    assert len(found) == 1
    return found[0]


def test_delivers_signed_bodies(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            conversation = world.conversation()
            seq = world.emit(conversation, 1)
            await run_worker_until(make_worker(store), lambda: settled(world, 1))
        delivery = only(world)
        assert delivery.state is DeliveryState.SUCCEEDED
        assert delivery.attempts == 1
        assert delivery.last_status == 200
        seen = receiver.seen[0]
        assert seen.path == "/hook"
        assert seen.headers["webhook-id"] == f"evt_{seq}_{world.endpoint.id}"
        assert seen.headers["content-type"] == "application/json"
        payload = Webhook(world.endpoint.secret).verify(seen.body.decode(), seen.headers)
        assert payload == {"seq": seq, "type": "message.created", "n": 1}
        [attempt] = attempts(world, delivery.id)
        assert attempt.status_code == 200
        assert attempt.error is None
        assert attempt.response_excerpt == "ok"
        assert attempt.latency_ms > 0

    asyncio.run(go())


def test_retries_on_500_with_the_same_webhook_id_then_succeeds(store: Store) -> None:
    async def go() -> None:
        replies = [Reply(500, b"boom"), Reply(503, b"busy"), Reply(204, b"")]
        async with Receiver(replies) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            await run_worker_until(make_worker(store), lambda: settled(world, 1))
        delivery = only(world)
        assert delivery.state is DeliveryState.SUCCEEDED
        assert delivery.attempts == 3
        ids = {seen.headers["webhook-id"] for seen in receiver.seen}
        assert ids == {delivery.webhook_id}
        assert len(receiver.seen) == 3
        for seen in receiver.seen:  # each attempt is signed afresh, and verifies
            Webhook(world.endpoint.secret).verify(seen.body.decode(), seen.headers)
        log = attempts(world, delivery.id)
        assert [(a.status_code, a.response_excerpt) for a in log] == [(500, "boom"), (503, "busy"), (204, "")]
        assert [a.error for a in log] == ["answered HTTP 500", "answered HTTP 503", None]

    asyncio.run(go())


def test_gives_up_when_the_schedule_is_used_up(store: Store) -> None:
    async def go() -> None:
        async with Receiver([Reply(500, b"still broken")]) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            await run_worker_until(make_worker(store), lambda: settled(world, 1))
        delivery = only(world)
        assert delivery.state is DeliveryState.FAILED
        assert delivery.attempts == 3  # the schedule (0, 0.05, 0.05) allows three
        assert delivery.last_status == 500
        assert delivery.last_error == "answered HTTP 500; gave up after 3 attempts"
        assert len(receiver.seen) == 3
        assert len(attempts(world, delivery.id)) == 3

    asyncio.run(go())


def test_a_redirect_is_a_failure_and_is_not_followed(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as elsewhere:
            moved = Reply(301, b"", {"location": elsewhere.url("/moved")})
            async with Receiver([moved]) as receiver:
                world = make_world(store, receiver.url())
                world.emit(world.conversation(), 1)
                await run_worker_until(make_worker(store), lambda: settled(world, 1))
            assert elsewhere.seen == []
        delivery = only(world)
        assert delivery.state is DeliveryState.FAILED
        assert delivery.last_status == 301
        assert delivery.last_error is not None
        assert "redirect" in delivery.last_error
        assert elsewhere.url("/moved") in delivery.last_error
        assert len(receiver.seen) == 3

    asyncio.run(go())


def test_410_disables_the_endpoint_and_fails_what_was_pending(store: Store) -> None:
    async def go() -> None:
        async with Receiver([Reply(410, b"gone")]) as receiver:
            world = make_world(store, receiver.url())
            conversation = world.conversation()
            for n in range(3):
                world.emit(conversation, n)
            await run_worker_until(make_worker(store), lambda: settled(world, 3))
        assert len(receiver.seen) == 1
        endpoint = world.endpoint_now()
        assert not endpoint.enabled
        assert endpoint.disabled_reason is not None
        first, *rest = world.deliveries()
        assert first.state is DeliveryState.FAILED
        assert first.last_status == 410
        assert all(d.state is DeliveryState.FAILED for d in rest)
        assert all("410" in (d.last_error or "") for d in rest)

    asyncio.run(go())


def test_order_per_conversation_survives_a_retry(store: Store) -> None:
    """The first delivery fails once; the second waits behind it, while another conversation goes on."""
    calls: dict[int, int] = {}

    def first_time_fails(seen: Seen) -> Reply:
        n = seen.json()["n"]
        calls[n] = calls.get(n, 0) + 1
        return Reply(500) if n == 1 and calls[n] == 1 else Reply(200)

    async def go() -> None:
        async with Receiver(first_time_fails) as receiver:
            world = make_world(store, receiver.url())
            a, b = world.conversation(), world.conversation()
            world.emit(a, 1)
            world.emit(a, 2)
            world.emit(b, 3)
            world.emit(a, 4)
            settings = quick_settings(retry_schedule=(0.0, 0.3, 0.3))
            await run_worker_until(make_worker(store, settings), lambda: settled(world, 4))
        order = [seen.json()["n"] for seen in receiver.seen]
        assert [n for n in order if n != 3] == [1, 1, 2, 4]
        assert order.index(3) < 2  # conversation b did not wait for a's retry
        assert all(d.state is DeliveryState.SUCCEEDED for d in world.deliveries())

    asyncio.run(go())


def test_different_conversations_are_sent_concurrently(store: Store) -> None:
    async def go() -> None:
        async with Receiver([Reply(200, b"ok", delay=0.4)]) as receiver:
            world = make_world(store, receiver.url())
            for n in range(4):
                world.emit(world.conversation(), n)
            started = time.monotonic()
            await run_worker_until(make_worker(store), lambda: settled(world, 4))
            elapsed = time.monotonic() - started
        assert len(receiver.seen) == 4
        assert elapsed < 1.2  # one after the other would take 1.6 s

    asyncio.run(go())


def test_a_refused_address_fails_at_once(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            await run_worker_until(make_worker(store, allow=False), lambda: settled(world, 1))
        assert receiver.seen == []
        delivery = only(world)
        assert delivery.state is DeliveryState.FAILED
        assert delivery.attempts == 1
        assert delivery.last_error is not None
        assert "HELPLINE_OUTBOUND_ALLOW" in delivery.last_error
        [attempt] = attempts(world, delivery.id)
        assert attempt.status_code is None
        assert attempt.error == delivery.last_error

    asyncio.run(go())


def test_a_timeout_is_retried(store: Store) -> None:
    async def go() -> None:
        async with Receiver([Reply(200, b"late", delay=1.0), Reply(200)]) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            worker = make_worker(store, quick_settings(webhook_timeout=0.3))
            await run_worker_until(worker, lambda: settled(world, 1))
        delivery = only(world)
        assert delivery.state is DeliveryState.SUCCEEDED
        first, second = attempts(world, delivery.id)
        assert first.status_code is None
        assert first.error is not None
        assert "0.3 s" in first.error
        assert second.status_code == 200

    asyncio.run(go())


def test_an_endpoint_disabled_after_planning_fails_its_delivery(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            worker = make_worker(store)
            await worker.plan()
            store.write_sync(lambda uow: uow.endpoints.disable(world.endpoint.id, "operator said so"))
            await run_worker_until(worker, lambda: settled(world, 1))
        assert receiver.seen == []
        delivery = only(world)
        assert delivery.state is DeliveryState.FAILED
        assert delivery.last_error == f"endpoint {world.endpoint.id} is disabled: operator said so"

    asyncio.run(go())


def test_wake_makes_the_worker_look_at_once(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            conversation = world.conversation()
            worker = make_worker(store)
            worker.idle_seconds = 30.0
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            await asyncio.sleep(0.1)
            world.emit(conversation, 1)
            worker.wake()
            await receiver.wait_for(1, within=2.0)  # well inside the 30 s it would otherwise sleep
            stop.set()
            await task
            await worker.http.aclose()

    asyncio.run(go())


def test_run_once_plans_and_sends(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            worker = make_worker(store)
            assert await worker.run_once() == 1
            await worker.http.aclose()
        assert len(receiver.seen) == 1
        assert only(world).state is DeliveryState.SUCCEEDED

    asyncio.run(go())


def test_a_delivery_held_by_a_crashed_worker_goes_once_its_lock_expires(store: Store) -> None:
    async def go() -> None:
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            worker = make_worker(store)
            await worker.plan()
            delivery = only(world)
            now, held_at = time.time(), time.monotonic()
            assert store.write_sync(lambda uow: Deliveries.from_uow(uow).lock(delivery.id, now, now + 0.3))
            assert await worker.run_once() == 0  # still held
            await run_worker_until(worker, lambda: settled(world, 1))
        assert len(receiver.seen) == 1
        assert receiver.seen[0].at - held_at >= 0.25

    asyncio.run(go())


def test_two_workers_on_one_store_send_each_delivery_once_and_in_order(store: Store) -> None:
    async def go() -> None:
        async with Receiver([Reply(200, b"ok", delay=0.01)]) as receiver:
            world = make_world(store, receiver.url())
            conversations = [world.conversation() for _ in range(6)]
            for n in range(4):
                for conversation in conversations:
                    world.emit(conversation, n)
            workers = [make_worker(store), make_worker(store)]
            stop = asyncio.Event()
            tasks = [asyncio.create_task(w.run(stop)) for w in workers]
            try:
                await receiver.wait_for(24, within=10.0)
                await asyncio.sleep(0.2)  # anything sent twice would have arrived by now
            finally:
                stop.set()
                await asyncio.gather(*tasks)
                for w in workers:
                    await w.http.aclose()
        ids = [seen.headers["webhook-id"] for seen in receiver.seen]
        assert len(ids) == len(set(ids)) == 24
        by_seq = {d.event_seq: d.conversation_id for d in world.deliveries()}
        for conversation in conversations:
            ns = [seen.json()["n"] for seen in receiver.seen if by_seq[seen.json()["seq"]] == conversation]
            assert ns == [0, 1, 2, 3]

    asyncio.run(go())


def committed(world: World) -> list[Event]:
    found: list[Event] = world.store.read_sync(lambda uow: uow.events.after(0, 100))
    return found


def held(events: list[Event]) -> list[Event]:
    """Told apart from the log by their ``n``, to show which of the two the planner used."""
    return [dataclasses.replace(event, data={"n": 100 + event.data["n"]}) for event in events]


def planned(world: World) -> list[tuple[int, int]]:
    return [(d.event_seq, json.loads(d.body)["n"]) for d in world.deliveries()]


def test_the_events_the_hub_dispatched_are_planned_from_memory_then_let_go(store: Store) -> None:
    """The buffer is what spares the planner a read of the log per commit; kept past planning it would
    only grow."""

    async def go() -> None:
        world = make_world(store, "https://hooks.example.org/in")
        conversation = world.conversation()
        seqs = [world.emit(conversation, n) for n in range(5)]
        events = held(committed(world))
        worker = make_worker(store)
        worker.plan_batch = 2  # three planning rounds, each trimming what it planned
        worker.on_events(events[:3])
        worker.on_events(events[3:])
        assert worker._recent == events
        assert await worker.plan() == 5
        assert worker._recent == []
        assert planned(world) == [(seq, 100 + n) for n, seq in enumerate(seqs)]
        assert await worker.plan() == 0
        await worker.http.aclose()

    asyncio.run(go())


def test_a_batch_that_does_not_continue_the_buffer_replaces_it(store: Store) -> None:
    """A batch after a gap would hand the planner a run with a hole: the log covers the hole instead."""

    async def go() -> None:
        world = make_world(store, "https://hooks.example.org/in")
        conversation = world.conversation()
        seqs = [world.emit(conversation, n) for n in range(5)]
        events = held(committed(world))
        worker = make_worker(store)
        worker.on_events(events[:2])
        worker.on_events(events[3:])
        assert worker._recent == events[3:]
        assert await worker.plan() == 5
        assert worker._recent == []
        # Nothing continued the cursor (0): the log was read, and it has every event once.
        assert planned(world) == list(zip(seqs, range(5), strict=True))
        await worker.http.aclose()

    asyncio.run(go())


def test_the_buffer_keeps_only_the_latest_events(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that cannot keep up must not hold every event since it fell behind."""
    monkeypatch.setattr(worker_module, "RECENT_LIMIT", 3)

    async def go() -> None:
        world = make_world(store, "https://hooks.example.org/in")
        conversation = world.conversation()
        seqs = [world.emit(conversation, n) for n in range(5)]
        events = held(committed(world))
        worker = make_worker(store)
        worker.on_events(events[:2])
        worker.on_events(events[2:])
        assert worker._recent == events[2:]
        assert await worker.plan() == 5
        assert worker._recent == []
        assert planned(world) == list(zip(seqs, range(5), strict=True))
        await worker.http.aclose()

    asyncio.run(go())


def test_an_attempt_cut_off_by_a_stopped_worker_stays_in_the_log(store: Store) -> None:
    """The receiver never answers the first request; the worker is stopped mid-attempt (its send cancelled,
    as a crash would leave it). The log still lists that attempt, with its start time; the next worker
    sends again once the lock expires, and both attempts are listed."""
    from helpline.outbound import operator

    replies = [Reply(delay=60.0), Reply()]

    async def go() -> None:
        async with Receiver(lambda seen: replies.pop(0)) as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 1)
            settings = quick_settings(webhook_timeout=0.3)
            first = make_worker(store, settings)
            stop = asyncio.Event()
            started = time.time()
            running = asyncio.create_task(first.run(stop, grace=0.0))
            await receiver.wait_for(1)
            stop.set()
            await running
            await first.http.aclose()
            cut_off = attempts(world, only(world).id)
            assert len(cut_off) == 1
            assert cut_off[0].latency_ms is None  # no outcome
            assert started <= cut_off[0].attempted_at <= time.time()
            assert only(world).state is DeliveryState.PENDING

            await run_worker_until(make_worker(store, settings), lambda: settled(world, 1), within=10)
            assert len(receiver.seen) == 2
        [listed] = operator.list_deliveries(store, None, None, 10)
        assert listed["state"] == "succeeded"
        detail = listed["attempts_detail"]
        assert [a["in_flight"] for a in detail] == [True, False]
        assert [a["status"] for a in detail] == [None, 200]
        assert detail[0]["attempted_at"] == cut_off[0].attempted_at

    asyncio.run(go())
