"""Request bodies of the admin API."""

from __future__ import annotations

from typing import Literal

import msgspec

from helpline.web.params import Id, Int64


class CreateDepartment(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    active: bool = True
    queue_enabled: bool = True
    queued_max_time: Int64 = 900
    ringing_max_time: Int64 = 60
    capacity: Int64 = 5
    auto_assign: bool = False


class CreateAgent(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str
    password: str
    department_ids: list[Id] = msgspec.field(default_factory=list)
    role: Literal["agent", "admin"] = "agent"
    photo_url: str | None = None


class CreateToken(msgspec.Struct, forbid_unknown_fields=True):
    webhook_url: str | None = None
