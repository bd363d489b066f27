"""What the admin API answers, as types its OpenAPI document is generated from (checked against real
answers, unknown fields forbidden, by ``tests/admin_api/test_admin_responses.py``)."""

from __future__ import annotations

from typing import Literal

import msgspec


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


class Department(Strict):
    id: int
    name: str
    active: bool
    queue_enabled: bool
    queued_max_time: int
    ringing_max_time: int
    capacity: int
    auto_assign: bool
    created_at: float


class Departments(Strict):
    departments: list[Department]


class Agent(Strict):
    id: int
    name: str
    email: str
    role: Literal["agent", "admin"]
    presence: Literal["online", "away", "offline"]
    photo_url: str | None
    department_ids: list[int]
    created_at: float


class CreatedAgent(Agent):
    api_key: str  # shown once


class Agents(Strict):
    agents: list[Agent]


class Token(Strict):
    id: int
    prefix: str
    active: bool
    webhook_url: str | None
    webhook_enabled: bool | None
    created_at: float


class CreatedToken(Token):
    token: str  # shown once
    signing_secret: str | None  # the webhook's whsec_ secret, shown once


class Tokens(Strict):
    tokens: list[Token]


class Attempt(Strict):
    attempted_at: float
    status: int | None
    latency_ms: float | None
    error: str | None
    response_excerpt: str | None
    in_flight: bool  # started, no outcome yet: being sent now, or cut off by a crash or a stop


class Delivery(Strict):
    id: int
    account_id: int
    event_seq: int
    event_type: str
    webhook_id: str
    conversation_id: int | None
    endpoint_id: int
    endpoint_url: str | None
    endpoint_enabled: bool
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: float
    next_attempt_at: float | None
    finished_at: float | None
    attempts_detail: list[Attempt]


class Deliveries(Strict):
    deliveries: list[Delivery]


class Widget(Strict):
    department_id: int
    sdk: bool  # whether the department is open to SDK clients (the widget's protocol)
    sdk_identifier: str | None  # the inbox identifier the snippet's data-inbox names
    allowed_origins: list[str]
    greeting: str | None
    color: str | None
    prechat: str
