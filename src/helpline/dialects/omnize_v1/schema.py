"""Request bodies of ClientApi V1, exactly the fields the seed and the later docs name, nothing else."""

from __future__ import annotations

from typing import Any

import msgspec

from helpline.core.model import MessageKind
from helpline.web.params import Id


class Customer(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    cpf: str | None = None


class StartInteraction(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    department_id: Id | str | None = None
    media_type: str | None = None
    customer: Customer | None = None
    extra: dict[str, Any] | None = None
    external_history: str | None = None


class SendMessage(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    content: str | None = None
    type: str | None = None
    url: str | None = None


class TokenOnly(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None


class UpdateInteraction(msgspec.Struct, forbid_unknown_fields=True):
    token: str | None = None
    mood: str | None = None
    tag_ids: list[Id | str] | None = None
    customer_key: str | None = None
    note: str | None = None


MEDIA_TYPES = ("TEXT", "SMS", "WHATSAPP", "INSTAGRAM", "TELEGRAM")
MOODS = ("POSITIVE", "NEGATIVE")
_WORD_TYPES = {kind.value: kind for kind in MessageKind}
_MIME_FAMILIES = {"image": MessageKind.IMAGE, "video": MessageKind.VIDEO, "audio": MessageKind.AUDIO}


def message_kind(value: str | None) -> MessageKind | None:
    """``text``/``image``/… (later docs) or a MIME type such as ``image/jpeg`` (the seed); None if neither."""
    if value is None or value == "":
        return MessageKind.TEXT
    lowered = value.strip().lower()
    if lowered in _WORD_TYPES:
        return _WORD_TYPES[lowered]
    family, slash, subtype = lowered.partition("/")
    if not slash or not subtype:
        return None
    if family in _MIME_FAMILIES:
        return _MIME_FAMILIES[family]
    if family in ("application", "text"):
        return MessageKind.FILE
    return None
