"""The type of a file from its first bytes, never from its name or the sender's word."""

from __future__ import annotations

import puremagic

HEAD_BYTES = 8192

_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")


def content_type(head: bytes) -> str:
    if not head:
        return "application/octet-stream"
    is_text = _is_text(head)
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    for match in matches:
        if not match.mime_type:
            continue
        # A one-byte signature ("{" for JSON) is met by one binary file in 256, and a type that
        # claims text is wrong about bytes that are not text: both are believed only of text.
        if (len(match.byte_match) < 2 or _names_text(match.mime_type)) and not is_text:
            continue
        return str(match.mime_type)
    return "text/plain" if is_text else "application/octet-stream"


def _names_text(mime_type: str) -> bool:
    return mime_type.startswith("text/") or mime_type.endswith("+xml") or mime_type in _TEXT_TYPES


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
