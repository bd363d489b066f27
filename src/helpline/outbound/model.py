"""The delivery log: one row per (event, endpoint), with every attempt kept for operators."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


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
    content_type: str = JSON
    path: str = ""
    file: DeliveryFile | None = None


@dataclass(slots=True)
class Attempt:
    delivery_id: int
    attempted_at: float  # when the attempt started
    status_code: int | None
    latency_ms: float | None  # None: no outcome recorded (being sent, or cut off by a crash or a stop)
    error: str | None
    response_excerpt: str | None


@dataclass(slots=True, frozen=True)
class DeliveryFile:
    """A stored file sent as the multipart part ``field``; its bytes are read from the file store at send time."""

    field: str
    key: str
    name: str
    content_type: str


@dataclass(slots=True)
class PlannedDelivery:
    """What a dialect's renderer wants sent for one event: which endpoint, which body.

    ``body`` is sent as is with ``content_type`` (JSON, or form fields already URL-encoded); with a
    ``file`` the delivery is ``multipart/form-data`` and ``body`` is a JSON object of its text fields.
    ``path`` is appended to the endpoint's URL (a hookpoint under a base URL).
    """

    endpoint_id: int
    body: str
    content_type: str = JSON
    path: str = ""
    file: DeliveryFile | None = None
