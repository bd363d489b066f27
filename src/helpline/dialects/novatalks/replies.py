"""Replies travel inside ``content``:
``[RepliedMessageDialogId:]<dialog id>[RepliedMessageId:]<message id>[RepliedContent:]<quoted text>[Content:]<text>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpline.core.errors import Invalid

MARKER = "[RepliedMessageDialogId:]"
_REPLY = re.compile(
    r"^\[RepliedMessageDialogId:\](?P<dialog>.*?)\[RepliedMessageId:\](?P<id>.*?)"
    r"\[RepliedContent:\](?P<quoted>.*?)\[Content:\](?P<content>.*)$",
    re.DOTALL,
)


@dataclass(slots=True, frozen=True)
class Reply:
    dialog_id: str
    message_id: int
    quoted: str
    content: str


def parse(content: str) -> Reply | None:
    """The reply a message's content encodes, or None for a plain message; a broken encoding is refused."""
    if not content.startswith(MARKER):
        return None
    found = _REPLY.match(content)
    if found is None:
        raise Invalid(
            "a reply must read [RepliedMessageDialogId:]<dialog id>[RepliedMessageId:]<id>"
            "[RepliedContent:]<text>[Content:]<text>"
        )
    raw_id = found["id"].strip()
    if not raw_id.isdigit():
        raise Invalid(f"RepliedMessageId must be a message id (got {raw_id!r})")
    return Reply(found["dialog"].strip(), int(raw_id), found["quoted"], found["content"])
