"""The delivery worker: plans new events into deliveries, then sends the due ones.

Order per conversation: ``Deliveries.claim`` only ever takes the oldest pending delivery of each
(endpoint, conversation) line, and a line's head holds a lease while it is in flight, so the next one in
line waits until the head succeeds or is given up on. Different lines go concurrently (bounded), in this
process and in any other sharing the database.

At least once: a delivery is claimed (leased, not finished) before it is sent and settled after; a crash
in between leaves it pending, and it goes again once the lease runs out, with the same ``webhook-id``.
A worker whose lease ran out records nothing (the claim's attempt number fences it out).
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import json
import logging
import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from helpline.config import Settings
from helpline.core.files import FileStore
from helpline.core.model import Endpoint, Event
from helpline.core.ports import Clock
from helpline.outbound.bodies import FileGone, MultipartBody
from helpline.outbound.guard import OutboundRefused
from helpline.outbound.http import USER_AGENT, OutboundFailed, OutboundHttp, Response
from helpline.outbound.model import Attempt, Delivery, DeliveryState
from helpline.outbound.planner import Planner
from helpline.outbound.repository import Deliveries
from helpline.outbound.signing import astream_signature, webhook_headers
from helpline.store.base import Store, SystemClock
from helpline.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LOCK_MARGIN = 5.0
RECENT_LIMIT = 5000  # committed events kept for the planner; past that it reads the log
JITTER = (0.8, 1.2)


@dataclass(slots=True)
class _Outcome:
    status: int | None
    latency_ms: float
    error: str | None
    excerpt: str | None
    verdict: str  # "ok", "retry", "fail", "gone"


def judge(response: Response) -> tuple[str, str | None]:
    """What a status means for the delivery: ``(verdict, error)``."""
    status = response.status
    if 200 <= status < 300:
        return "ok", None
    if status == 410:
        return "gone", "the endpoint answered 410 Gone: it is disabled and its pending deliveries failed"
    if 300 <= status < 400:
        where = f" to {response.location}" if response.location else ""
        return "retry", f"answered HTTP {status} (redirect{where}); redirects are not followed"
    return "retry", f"answered HTTP {status}"


class GiveUpHook(Protocol):
    """Told, inside the transaction that records it, that a delivery failed for good (``gone``: its
    endpoint answered 410 and was disabled, with every delivery pending for it). A bot's conversation
    falls through to humans this way."""

    def __call__(self, uow: UnitOfWork, delivery: Delivery, gone: bool, error: str) -> None: ...


def _unplanned_events(uow: UnitOfWork) -> bool:
    return uow.events.last_seq() > Deliveries.from_uow(uow).planned_up_to()


class DeliveryWorker:
    """Runs until ``stop`` is set; ``wake()`` (e.g. from a store listener) makes it look again at once."""

    def __init__(
        self,
        store: Store,
        http: OutboundHttp,
        planner: Planner,
        settings: Settings,
        clock: Clock | None = None,
        *,
        concurrency: int = 16,
        idle_seconds: float = 0.5,
        min_round_seconds: float = 0.02,
        plan_batch: int = 500,
        rng: random.Random | None = None,
        on_give_up: Sequence[GiveUpHook] = (),
        files: FileStore | None = None,
    ) -> None:
        """``files``: where the stored files that multipart deliveries carry are read from."""
        self.store = store
        self.http = http
        self.planner = planner
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.concurrency = concurrency
        self.idle_seconds = idle_seconds
        self.min_round_seconds = min_round_seconds
        self.plan_batch = plan_batch
        self.rng = rng or random.Random()  # jitter, not secrets
        self.on_give_up = tuple(on_give_up)
        self.files = files
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._recent: list[Event] = []

    # -- waking --------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for work now. Call it on the worker's event loop (use ``loop.call_soon_threadsafe``
        from other threads); ``on_events`` is the same, shaped as a store listener."""
        self._wake.set()

    def on_events(self, events: list[Event]) -> None:
        """Committed events, in order and without gaps (the hub's dispatch): kept for the planner, which
        then need not read them back from the log, and a wake-up."""
        if not events:
            return
        recent = self._recent
        if recent and events[0].seq != recent[-1].seq + 1:
            recent.clear()  # not a continuation: the planner reads the log from its cursor instead
        recent.extend(events)
        if len(recent) > RECENT_LIMIT:
            del recent[: len(recent) - RECENT_LIMIT]
        self._wake.set()

    # -- the loop -----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, grace: float = 5.0) -> None:
        """Plan and send until ``stop`` is set; then give in-flight sends ``grace`` seconds to finish."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                self._wake.clear()
                started = loop.time()
                try:
                    await self.plan()
                    await self.dispatch()
                except Exception:
                    log.exception("delivery worker round failed; trying again shortly")
                # Under load every commit wakes us: let rounds gather the events of several commits
                # rather than run one planning transaction per request.
                pause = self.min_round_seconds - (loop.time() - started)
                if pause > 0:
                    await asyncio.sleep(pause)
                waking = asyncio.ensure_future(self._wake.wait())
                try:
                    await asyncio.wait(
                        {waking, stopping}, timeout=self.idle_seconds, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    waking.cancel()
        finally:
            stopping.cancel()
            await self.drain(grace)

    async def run_once(self) -> int:
        """One round, waiting for its sends: plan, send what is due. Returns how many were sent."""
        await self.plan()
        started = await self.dispatch()
        await self.drain(None)
        return started

    async def drain(self, timeout: float | None) -> None:  # noqa: ASYNC109 -- a grace period for asyncio.wait
        """Wait for in-flight sends; past ``timeout`` cancel them (their locks expire, they go again)."""
        tasks = list(self._in_flight.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def plan(self) -> int:
        """Plan every event past the cursor; returns how many events were consumed.

        A read checks first whether there is anything new, so an idle worker does not queue writes.
        """
        if not await self.store.read(_unplanned_events):
            return 0
        total = 0
        while True:
            recent = tuple(self._recent)  # a snapshot: the store may run the planner on another thread
            consumed, up_to = await self.store.write(
                functools.partial(self.planner.plan_up_to, batch=self.plan_batch, recent=recent)
            )
            del self._recent[: bisect.bisect_right(self._recent, up_to, key=operator.attrgetter("seq"))]
            total += consumed
            if consumed < self.plan_batch:
                return total

    async def dispatch(self) -> int:
        """Claim and start sending the heads of lines that are due, up to the free concurrency.

        One statement claims them (see ``Deliveries.claim``): processes sharing the database skip what
        another is claiming, never send a delivery before its time, never two of one line at once.
        """
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        now = self.clock.now()
        # The lease outlasts the whole request (``OutboundHttp`` applies its timeout as a total deadline),
        # so a worker that is still sending still holds the delivery.
        until = now + self.http.timeout + LOCK_MARGIN

        def claim(uow: UnitOfWork) -> list[tuple[Delivery, Endpoint | None, int]]:
            deliveries = Deliveries.from_uow(uow)
            # The attempt is logged with the claim, before anything is sent (see Deliveries.start_attempt).
            return [
                (
                    delivery,
                    uow.endpoints.get(delivery.endpoint_id),
                    deliveries.start_attempt(delivery.id, now),
                )
                for delivery in deliveries.claim(now, until, free)
            ]

        claimed = await self.store.write(claim)
        for delivery, endpoint, attempt_id in claimed:
            task = asyncio.ensure_future(self._send(delivery, endpoint, attempt_id))
            self._in_flight[delivery.id] = task
            task.add_done_callback(functools.partial(self._sent, delivery.id))
        return len(claimed)

    def _sent(self, delivery_id: int, _task: object) -> None:
        self._in_flight.pop(delivery_id, None)
        self._wake.set()  # the next one in that line may go now

    # -- one delivery -------------------------------------------------------------------------------

    def next_delay(self, attempts_done: int) -> float | None:
        """Seconds until the next try after ``attempts_done`` attempts, or ``None`` to give up."""
        schedule = self.settings.retry_schedule
        if attempts_done >= len(schedule):
            return None
        return schedule[attempts_done] * self.rng.uniform(*JITTER)

    async def _send(self, delivery: Delivery, endpoint: Endpoint | None, attempt_id: int) -> None:
        try:
            outcome = await self._attempt(delivery, endpoint)
            await self._record(delivery, outcome, attempt_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery %s: recording failed; it goes again when its lock expires", delivery.id)

    async def _attempt(self, delivery: Delivery, endpoint: Endpoint | None) -> _Outcome:
        if endpoint is None:
            return _Outcome(None, 0.0, f"endpoint {delivery.endpoint_id} no longer exists", None, "fail")
        if not endpoint.enabled:
            reason = f": {endpoint.disabled_reason}" if endpoint.disabled_reason else ""
            return _Outcome(None, 0.0, f"endpoint {endpoint.id} is disabled{reason}", None, "fail")
        url = endpoint.url.rstrip("/") + delivery.path if delivery.path else endpoint.url
        try:
            if delivery.file is not None:
                response = await self._post_multipart(url, delivery, endpoint)
            else:
                now, kind = self.clock.now(), delivery.content_type
                signed = webhook_headers(endpoint.secret, delivery.webhook_id, delivery.body, now, kind)
                headers = endpoint.headers | signed  # the endpoint's own headers (auth) first
                response = await self.http.post_json(url, delivery.body, headers)
        except (OutboundRefused, FileGone) as error:
            return _Outcome(None, 0.0, str(error), None, "fail")
        except OutboundFailed as error:
            return _Outcome(None, 0.0, error.message, None, "retry")
        verdict, error_text = judge(response)
        return _Outcome(response.status, response.latency_ms, error_text, response.excerpt, verdict)

    async def _post_multipart(self, url: str, delivery: Delivery, endpoint: Endpoint) -> Response:
        """The text fields (a JSON object in ``body``) and the stored file, signed over the exact bytes."""
        assert delivery.file is not None
        if self.files is None:
            raise FileGone("this worker has no file store to read the file from")
        stored = await self.files.open(delivery.file.key)
        fields = {str(name): str(value) for name, value in json.loads(delivery.body).items()}
        body = MultipartBody.build(fields, delivery.file, stored)
        seconds = math.floor(self.clock.now())
        signature = await astream_signature(endpoint.secret, delivery.webhook_id, seconds, body.stream())
        headers = endpoint.headers | {  # the endpoint's own headers (auth) first
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(seconds),
            "webhook-signature": signature,
            "content-type": body.content_type,
            "content-length": str(body.length),
            "user-agent": USER_AGENT,
        }
        return await self.http.post(url, body.stream(), headers)

    async def _record(self, delivery: Delivery, outcome: _Outcome, attempt_id: int) -> None:
        now = self.clock.now()
        attempt = Attempt(
            delivery_id=delivery.id,
            attempted_at=now,  # not written: the attempt's row keeps its start time
            status_code=outcome.status,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
        verdict = outcome.verdict
        error = outcome.error
        attempts_done = delivery.attempts  # counted by the claim: also this attempt's fencing token
        delay = self.next_delay(attempts_done) if verdict == "retry" else None
        if verdict == "retry" and delay is None:
            verdict = "fail"
            error = f"{error}; gave up after {attempts_done} attempts"

        def record(uow: UnitOfWork) -> bool:
            deliveries = Deliveries.from_uow(uow)
            if verdict == "ok":
                settled = deliveries.settle(
                    delivery.id, attempts_done, now, DeliveryState.SUCCEEDED, outcome.status, None
                )
            elif verdict == "retry":
                assert delay is not None
                settled = deliveries.settle(
                    delivery.id, attempts_done, now, DeliveryState.PENDING, outcome.status, error, now + delay
                )
            else:
                settled = deliveries.settle(
                    delivery.id, attempts_done, now, DeliveryState.FAILED, outcome.status, error
                )
            if not settled:
                return False  # the lease ran out: a newer claim owns the delivery and its outcome
            deliveries.complete_attempt(attempt_id, attempt)
            if verdict == "gone":
                uow.endpoints.disable(delivery.endpoint_id, f"answered 410 Gone to delivery {delivery.id}")
                reason = f"endpoint {delivery.endpoint_id} was disabled (it answered 410 Gone)"
                deliveries.fail_pending_for_endpoint(delivery.endpoint_id, reason, now)
            if verdict in ("gone", "fail"):
                for hook in self.on_give_up:
                    hook(uow, delivery, verdict == "gone", error or "failed")
            return True

        if not await self.store.write(record):
            log.warning(
                "delivery %s (%s): its lease ran out before the answer came; the outcome is not recorded",
                delivery.id,
                delivery.webhook_id,
            )
        elif verdict == "fail":
            log.warning("delivery %s (%s) failed for good: %s", delivery.id, delivery.webhook_id, error)
