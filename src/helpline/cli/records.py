"""What the CLI prints for each kind of record (stable keys: scripts read them)."""

from __future__ import annotations

from typing import Any

from helpline.core.admin import IssuedToken
from helpline.core.bots import BotSetup
from helpline.core.model import Account, Agent, ApiToken, Department, Endpoint
from helpline.core.serialize import agent_record, department_record, token_record


def account(a: Account) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "created_at": a.created_at}


def department(d: Department) -> dict[str, Any]:
    # The CLI has always called the queue switch "queue" (scripts read these keys).
    return {
        ("queue" if key == "queue_enabled" else key): value for key, value in department_record(d).items()
    }


def bot_setup(setup: BotSetup) -> dict[str, Any]:
    """A department after its bot changed; the bot's signing secret appears once, when first made."""
    record = department(setup.department)
    if setup.signing_secret is not None:
        record["bot_signing_secret"] = setup.signing_secret
    record["fell_through"] = setup.fell_through
    return record


def token(t: ApiToken, endpoint: Endpoint | None) -> dict[str, Any]:
    return token_record(t, endpoint)


def issued_token(issued: IssuedToken) -> dict[str, Any]:
    record = token(issued.token, issued.endpoint)
    record["token"] = issued.secret
    record["signing_secret"] = issued.endpoint.secret if issued.endpoint else None
    return record


def agent(a: Agent) -> dict[str, Any]:
    return agent_record(a)
