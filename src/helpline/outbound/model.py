"""The delivery log: one row per (event, endpoint), with every attempt kept for operators."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeliveryState(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up after the last retry, or the endpoint is disabled


@dataclass(slots=True)
class Delivery:
    id: int
    account_id: int
    event_seq: int
    endpoint_id: int
    conversation_id: int | None
    webhook_id: str
    event_type: str
    body: str
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    created_at: float
    finished_at: float | None


@dataclass(slots=True)
class Attempt:
    delivery_id: int
    attempted_at: float
    status_code: int | None
    latency_ms: float
    error: str | None
    response_excerpt: str | None


@dataclass(slots=True)
class PlannedDelivery:
    """What a dialect's renderer wants sent for one event: which endpoint, which JSON body."""

    endpoint_id: int
    body: str
