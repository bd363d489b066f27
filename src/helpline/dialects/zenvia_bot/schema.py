"""Request bodies of the bot's calls, exactly the fields the seed names."""

from __future__ import annotations

from typing import Any

import msgspec

from helpline.web.params import Id


class TokenOnly(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None


class Transfer(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    department_id: Id | str | None = None


class Attachment(msgspec.Struct, forbid_unknown_fields=True):
    url: str | None = None
    size: str | int | float | None = None


class SendMessage(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    content: str | None = None
    content_type: str | None = None
    attachment: Attachment | None = None
    # Beyond the seed: a bot may ask with buttons (card, quick_reply) or for a rating (feedback).
    content_attributes: dict[str, Any] | None = None


CONTENT_TYPES = ("text", "image", "video", "audio", "file")
INTERACTIVE_TYPES = ("card", "quick_reply", "feedback")
