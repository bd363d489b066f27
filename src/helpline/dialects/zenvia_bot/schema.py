"""Request bodies of the bot's calls, exactly the fields the seed names."""

from __future__ import annotations

import msgspec


class TokenOnly(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None


class Transfer(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    department_id: int | str | None = None


class Attachment(msgspec.Struct, forbid_unknown_fields=True):
    url: str | None = None
    size: str | int | float | None = None


class SendMessage(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    content: str | None = None
    content_type: str | None = None
    attachment: Attachment | None = None


CONTENT_TYPES = ("text", "image", "video", "audio", "file")
