"""Request bodies of the admin API."""

from __future__ import annotations

from typing import Literal

import msgspec


class CreateDepartment(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    active: bool = True
    queue_enabled: bool = True
    queued_max_time: int = 900
    ringing_max_time: int = 60
    capacity: int = 5
    auto_assign: bool = False


class CreateAgent(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str
    password: str
    department_ids: list[int] = msgspec.field(default_factory=list)
    role: Literal["agent", "admin"] = "agent"
    photo_url: str | None = None


class CreateToken(msgspec.Struct, forbid_unknown_fields=True):
    webhook_url: str | None = None
