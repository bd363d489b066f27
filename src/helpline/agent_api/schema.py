"""Request bodies of the agent API."""

from __future__ import annotations

from typing import Literal

import msgspec


class Login(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str


class SetPresence(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["online", "away", "offline"]


class PostMessage(msgspec.Struct, forbid_unknown_fields=True):
    content: str = ""
    content_type: Literal["text", "image", "video", "audio", "file"] = "text"
    url: str | None = None


class Typing(msgspec.Struct, forbid_unknown_fields=True):
    typing: bool


class Transfer(msgspec.Struct, forbid_unknown_fields=True):
    department_id: int | None = None
    agent_id: int | None = None
