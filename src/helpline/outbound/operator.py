"""What operators do with the delivery log: list it, replay a delivery. Plain JSON-able dicts out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpline.core.errors import Conflict, Invalid, NotFound
from helpline.outbound.model import Attempt, Delivery, DeliveryState
from helpline.outbound.repository import Deliveries
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


def parse_state(state: str | DeliveryState | None) -> DeliveryState | None:
    if state is None or isinstance(state, DeliveryState):
        return state
    try:
        return DeliveryState(state.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in DeliveryState)
        raise Invalid(f"unknown delivery state {state!r}: use one of {names}") from None


def _attempt(attempt: Attempt) -> dict[str, Any]:
    return {
        "attempted_at": attempt.attempted_at,
        "status": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "response_excerpt": attempt.response_excerpt,
        # Logged when it started and no outcome since: being sent now, or cut off by a crash or a stop.
        "in_flight": attempt.latency_ms is None,
    }


def _attempts(uow: UnitOfWork, delivery_id: int) -> list[Attempt]:
    # Deliveries.attempts is annotated ``-> list[Attempt]`` below a method named ``list``, which mypy
    # reads as that method; say what it really returns.
    found: list[Attempt] = Deliveries.from_uow(uow).attempts(delivery_id)
    return found


def describe(uow: UnitOfWork, delivery: Delivery) -> dict[str, Any]:
    endpoint = uow.endpoints.get(delivery.endpoint_id)
    return {
        "id": delivery.id,
        "account_id": delivery.account_id,
        "event_seq": delivery.event_seq,
        "event_type": delivery.event_type,
        "webhook_id": delivery.webhook_id,
        "conversation_id": delivery.conversation_id,
        "endpoint_id": delivery.endpoint_id,
        "endpoint_url": endpoint.url if endpoint else None,
        "endpoint_enabled": endpoint.enabled if endpoint else False,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at if delivery.state is DeliveryState.PENDING else None,
        "finished_at": delivery.finished_at,
        "attempts_detail": [_attempt(a) for a in _attempts(uow, delivery.id)],
    }


def list_work(
    account_id: int | None, state: str | DeliveryState | None, limit: int
) -> Callable[[UnitOfWork], list[dict[str, Any]]]:
    """The read behind :func:`list_deliveries`, for callers that run it on their own store."""
    wanted = parse_state(state)
    if limit < 1:
        raise Invalid(f"limit must be at least 1 (got {limit})")

    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        return [describe(uow, d) for d in Deliveries.from_uow(uow).list(account_id, wanted, limit)]

    return work


def replay_work(delivery_id: int, account_id: int | None = None) -> Callable[[UnitOfWork], dict[str, Any]]:
    """The write behind :func:`replay`."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        delivery = Deliveries.from_uow(uow).get(delivery_id)
        if delivery is None or (account_id is not None and delivery.account_id != account_id):
            raise NotFound(f"delivery {delivery_id} does not exist")
        if not Deliveries.from_uow(uow).requeue(delivery_id, uow.now):
            raise Conflict(
                f"delivery {delivery_id} is being sent right now; replay it once this attempt ends"
            )
        requeued = Deliveries.from_uow(uow).get(delivery_id)
        assert requeued is not None
        return describe(uow, requeued)

    return work


def list_deliveries(
    store: Store, account_id: int | None = None, state: str | DeliveryState | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest deliveries first, optionally of one account and/or in one state, with their attempts.

    Blocking (for the CLI); from async code use :func:`list_deliveries_async`.
    """
    return store.read_sync(list_work(account_id, state, limit))


def replay(store: Store, delivery_id: int, account_id: int | None = None) -> dict[str, Any]:
    """Send a delivery again, whatever its state, with the same ``webhook-id`` and body.

    It goes back in its (endpoint, conversation) line as pending and due now; a running worker picks it
    up on its next round. Its attempts so far stay in the log; if the retry schedule is already used up,
    it gets one more try. With ``account_id``, a delivery of another account is not found. Blocking (for
    the CLI); from async code use :func:`replay_async`.
    """
    return store.write_sync(replay_work(delivery_id, account_id))


async def list_deliveries_async(
    store: Store, account_id: int | None = None, state: str | DeliveryState | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    return await store.read(list_work(account_id, state, limit))


async def replay_async(store: Store, delivery_id: int, account_id: int | None = None) -> dict[str, Any]:
    return await store.write(replay_work(delivery_id, account_id))
