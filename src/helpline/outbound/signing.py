"""Standard Webhooks headers (https://www.standardwebhooks.com): receivers verify and deduplicate with them.

``webhook-id`` is the delivery's id (the same on every retry and replay), ``webhook-timestamp`` the time
of this attempt in whole seconds, ``webhook-signature`` ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``
keyed with the endpoint's ``whsec_...`` secret.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from standardwebhooks import Webhook

from helpline.outbound.http import USER_AGENT


def webhook_headers(secret: str, webhook_id: str, body: str, timestamp: float) -> dict[str, str]:
    """The headers of one attempt to POST ``body`` (exactly these characters, UTF-8 encoded)."""
    seconds = math.floor(timestamp)
    signature: str = Webhook(secret).sign(webhook_id, datetime.fromtimestamp(seconds, tz=UTC), body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(seconds),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
