"""Request bodies of the agent API."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from helpline.web.params import Id


class Login(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str


class SetPresence(msgspec.Struct, forbid_unknown_fields=True):
    status: Literal["online", "away", "offline"]


class PostMessage(msgspec.Struct, forbid_unknown_fields=True):
    content: str = ""
    content_type: Literal["text", "image", "video", "audio", "file", "card", "quick_reply", "feedback"] = (
        "text"
    )
    url: str | None = None
    content_attributes: dict[str, Any] | None = None  # the options of a card or quick reply
    reply_to: Id | None = None  # the id of a message of the conversation this one answers


class MarkSeen(msgspec.Struct, forbid_unknown_fields=True):
    up_to: Id | None = None  # the last message read (default: all of them)


class MarkDelivered(msgspec.Struct, forbid_unknown_fields=True):
    up_to: Id | None = None  # the last message the console received (default: all of them)


class Typing(msgspec.Struct, forbid_unknown_fields=True):
    typing: bool


class Transfer(msgspec.Struct, forbid_unknown_fields=True):
    department_id: Id | None = None
    agent_id: Id | None = None
