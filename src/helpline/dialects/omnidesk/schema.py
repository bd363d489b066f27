"""Request fields of the Omnidesk chat API, exactly as the seed and the vendor's later notes name them.

The same fields arrive as ``multipart/form-data``, URL-encoded form fields, JSON or the query string;
:mod:`helpline.dialects.omnidesk.fields` gathers them and converts them into these structs (form values
are text, so ``"8"`` is read as the number 8). Fields not named here are ignored.
"""

from __future__ import annotations

import msgspec

from helpline.web.params import Int64, PositiveId

PositiveInt = PositiveId
SessionId = str | int


class NewChatMessage(msgspec.Struct):
    chatAccountToken: str
    chatSessionID: SessionId
    chatServer: str
    message: str
    url: str
    channelID: Int64
    messageNumber: PositiveInt | None = None


class AddAttachment(msgspec.Struct):
    """The text fields beside the multipart ``file``."""

    chatAccountToken: str
    sessionID: SessionId
    chatServer: str


class NewChatEvent(msgspec.Struct):
    chatServer: str
    chatSessionID: SessionId
    event: str
    chatAccountToken: str | None = None


class EndChat(msgspec.Struct):
    chatSessionID: SessionId
    chatServer: str
    chatAccountToken: str | None = None


class RequestChatConfig(msgspec.Struct):
    chatAccountToken: str
    chatServerToken: str


class ChatbotLog(msgspec.Struct):
    sender: str = msgspec.field(name="from")
    message: str
    subject: str | None = None
    brandID: PositiveInt | None = None
    chatAccountToken: str | None = None


EVENTS = ("startedtyping", "stoppedtyping", "expandedchat", "minimizedchat")
