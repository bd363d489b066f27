"""What the CLI prints for each kind of record (stable keys: scripts read them)."""

from __future__ import annotations

from typing import Any

from helpline.core.admin import IssuedToken
from helpline.core.bots import BotSetup
from helpline.core.model import Account, Agent, ApiToken, Department, Endpoint


def account(a: Account) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "created_at": a.created_at}


def department(d: Department) -> dict[str, Any]:
    return {
        "id": d.id,
        "account_id": d.account_id,
        "name": d.name,
        "active": d.active,
        "queue": d.queue_enabled,
        "queued_max_time": d.queued_max_time,
        "ringing_max_time": d.ringing_max_time,
        "capacity": d.capacity,
        "auto_assign": d.auto_assign,
        "bot_url": d.bot_url,
        "bot_accept_timeout": d.bot_accept_timeout,
        "created_at": d.created_at,
    }


def bot_setup(setup: BotSetup) -> dict[str, Any]:
    """A department after its bot changed; the bot's signing secret appears once, when first made."""
    record = department(setup.department)
    if setup.signing_secret is not None:
        record["bot_signing_secret"] = setup.signing_secret
    record["fell_through"] = setup.fell_through
    return record


def token(t: ApiToken, endpoint: Endpoint | None) -> dict[str, Any]:
    return {
        "id": t.id,
        "account_id": t.account_id,
        "prefix": t.prefix,
        "active": t.active,
        "webhook_url": endpoint.url if endpoint else None,
        "webhook_enabled": endpoint.enabled if endpoint else None,
        "created_at": t.created_at,
    }


def issued_token(issued: IssuedToken) -> dict[str, Any]:
    record = token(issued.token, issued.endpoint)
    record["token"] = issued.secret
    record["signing_secret"] = issued.endpoint.secret if issued.endpoint else None
    return record


def agent(a: Agent) -> dict[str, Any]:
    return {
        "id": a.id,
        "account_id": a.account_id,
        "name": a.name,
        "email": a.email,
        "role": a.role.value,
        "presence": a.presence.value,
        "photo_url": a.photo_url,
        "department_ids": a.department_ids,
        "created_at": a.created_at,
    }
