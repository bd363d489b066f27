"""The type of a file from its first bytes, never from its name or the sender's word."""

from __future__ import annotations

import puremagic

HEAD_BYTES = 8192


def content_type(head: bytes) -> str:
    if not head:
        return "application/octet-stream"
    try:
        found = puremagic.from_string(head, mime=True)
    except puremagic.PureError:
        found = ""
    if found:
        return str(found)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain"
