"""Standard Webhooks headers (https://www.standardwebhooks.com): receivers verify and deduplicate with them.

``webhook-id`` is the delivery's id (the same on every retry and replay), ``webhook-timestamp`` the time
of this attempt in whole seconds, ``webhook-signature`` ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``
keyed with the endpoint's ``whsec_...`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

from standardwebhooks import Webhook

from helpline.outbound.http import USER_AGENT


def webhook_headers(
    secret: str, webhook_id: str, body: str, timestamp: float, content_type: str = "application/json"
) -> dict[str, str]:
    """The headers of one attempt to POST ``body`` (exactly these characters, UTF-8 encoded)."""
    seconds = math.floor(timestamp)
    signature: str = Webhook(secret).sign(webhook_id, datetime.fromtimestamp(seconds, tz=UTC), body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(seconds),
        "webhook-signature": signature,
        "content-type": content_type,
        "user-agent": USER_AGENT,
    }


def stream_signature(secret: str, webhook_id: str, seconds: int, chunks: Iterable[bytes]) -> str:
    """``webhook-signature`` of a body given as bytes, piece by piece (a multipart body with a file in
    it need never be held whole); the same value :func:`webhook_headers` gives for a text body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{seconds}.".encode(), hashlib.sha256)
    for chunk in chunks:
        mac.update(chunk)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


async def astream_signature(secret: str, webhook_id: str, seconds: int, chunks: AsyncIterator[bytes]) -> str:
    """:func:`stream_signature` of a body read from an async stream (a file in the file store)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{seconds}.".encode(), hashlib.sha256)
    async for chunk in chunks:
        mac.update(chunk)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")
