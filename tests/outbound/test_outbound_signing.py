"""Standard Webhooks headers, checked with the reference verifier."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from helpline.core.credentials import new_signing_secret
from helpline.outbound.signing import webhook_headers


def test_headers_verify_with_the_endpoint_secret() -> None:
    secret = new_signing_secret()
    body = '{"interaction_hash": "abc", "message": {"content": "olá"}}'
    headers = webhook_headers(secret, "evt_7_3", body, time.time())
    assert Webhook(secret).verify(body, headers) == {"interaction_hash": "abc", "message": {"content": "olá"}}
    assert headers["webhook-id"] == "evt_7_3"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("Helpline/")
    assert headers["webhook-signature"].startswith("v1,")


def test_a_changed_body_or_another_secret_does_not_verify() -> None:
    secret = new_signing_secret()
    headers = webhook_headers(secret, "evt_1_1", '{"a": 1}', time.time())
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify('{"a": 2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_signing_secret()).verify('{"a": 1}', headers)


def test_timestamp_is_the_attempt_time_in_whole_seconds() -> None:
    headers = webhook_headers(new_signing_secret(), "evt_1_1", "{}", 1_700_000_000.9)
    assert headers["webhook-timestamp"] == "1700000000"
