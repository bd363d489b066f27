"""Request bodies of the SDK API, as the vendor's schema names them. Fields the schema does not name are
ignored (as the vendor's server does); a named field of the wrong type is refused."""

from __future__ import annotations

from typing import Any

import msgspec

from helpline.web.params import Id


class MessageIn(msgspec.Struct):
    content: str | None = None
    echo_id: str | int | None = None


class CreateConversation(msgspec.Struct):
    name: str
    email: str | None = None
    phone_number: str | None = None
    custom_attributes: dict[str, Any] | None = None
    additional_attributes: dict[str, Any] | None = None
    message: MessageIn | None = None
    push_token: str | None = None


class CreateMessage(msgspec.Struct):
    message: MessageIn


class UpdateStatus(msgspec.Struct):
    status: str
    messageIds: list[Id]


class InteractiveAttribute(msgspec.Struct):
    selected_content_attribute_value: str


class ReactionIn(msgspec.Struct):
    reaction: str | None


class PushTokenIn(msgspec.Struct):
    push_token: str
