"""What an operator sets up: accounts, departments, API tokens with their webhooks, agents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from helpline.core.credentials import (
    hash_password,
    new_signing_secret,
    new_token,
    token_hash,
    verify_password,
)
from helpline.core.errors import Conflict, Invalid, NotFound, Unauthorized
from helpline.core.model import Account, Agent, ApiToken, Department, Endpoint, Role
from helpline.core.ports import UnitOfWork
from helpline.core.values import parse_url

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def require_account(uow: UnitOfWork, account_id: int) -> Account:
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


def create_account(uow: UnitOfWork, name: str) -> Account:
    if not name.strip():
        raise Invalid("an account needs a name")
    return uow.accounts.create(name.strip(), uow.now)


def create_department(uow: UnitOfWork, department: Department) -> Department:
    require_account(uow, department.account_id)
    department.name = department.name.strip()
    _check_department(uow, department)
    department.created_at = department.updated_at = uow.now
    return uow.departments.create(department)


# What ``update_department`` may change, by field name.
DEPARTMENT_SETTINGS = (
    "name",
    "active",
    "queue_enabled",
    "queued_max_time",
    "ringing_max_time",
    "capacity",
    "auto_assign",
)


def update_department(
    uow: UnitOfWork, account_id: int, department_id: int, changes: dict[str, Any]
) -> Department:
    """Change the given settings (names in ``DEPARTMENT_SETTINGS``); the others stay."""
    department = uow.departments.get(account_id, department_id)
    if department is None:
        raise NotFound(f"department {department_id} does not exist")
    unknown = sorted(set(changes) - set(DEPARTMENT_SETTINGS))
    if unknown:
        raise Invalid(f"a department has no setting {', '.join(unknown)}")
    if not changes:
        return department
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()
    for name, value in changes.items():
        setattr(department, name, value)
    _check_department(uow, department)
    department.updated_at = uow.now
    uow.departments.update(department.id, {**changes, "updated_at": uow.now})
    return department


def _check_department(uow: UnitOfWork, department: Department) -> None:
    if not department.name:
        raise Invalid("a department needs a name")
    for label, value in (
        ("queued_max_time", department.queued_max_time),
        ("ringing_max_time", department.ringing_max_time),
        ("capacity", department.capacity),
    ):
        if value < 1:
            raise Invalid(f"{label} must be at least 1 (got {value})")
    for other in uow.departments.list(department.account_id):
        if other.id != department.id and other.name.casefold() == department.name.casefold():
            raise Conflict(
                f"account {department.account_id} already has a department named {other.name!r} (id {other.id})"
            )


@dataclass(slots=True)
class IssuedToken:
    token: ApiToken
    secret: str
    endpoint: Endpoint | None


def create_token(uow: UnitOfWork, account_id: int, webhook_url: str | None) -> IssuedToken:
    """Issue a token; with a webhook URL, also the endpoint its triggers go to and the secret that signs them."""
    require_account(uow, account_id)
    endpoint = None
    if webhook_url:
        parse_url(webhook_url, "webhook URL")
        endpoint = uow.endpoints.create(account_id, "webhook", webhook_url, new_signing_secret(), uow.now)
    secret = new_token()
    token = uow.tokens.create(
        account_id, token_hash(secret), secret[:6], endpoint.id if endpoint else None, uow.now
    )
    return IssuedToken(token=token, secret=secret, endpoint=endpoint)


def token_by_secret(uow: UnitOfWork, secret: str) -> ApiToken:
    token = uow.tokens.by_hash(token_hash(secret)) if secret else None
    if token is None or not token.active:
        raise Unauthorized("invalid token")
    return token


@dataclass(slots=True)
class CreatedAgent:
    agent: Agent
    api_key: str


def create_agent(
    uow: UnitOfWork,
    account_id: int,
    name: str,
    email: str,
    password: str,
    department_ids: list[int],
    role: Role = Role.AGENT,
    photo_url: str | None = None,
) -> CreatedAgent:
    require_account(uow, account_id)
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise Invalid(f"{email!r} is not an email address")
    if len(password) < 6:
        raise Invalid("a password needs at least 6 characters")
    if uow.agents.by_email(email) is not None:
        raise Invalid(f"an agent with email {email} already exists")
    for department_id in department_ids:
        if uow.departments.get(account_id, department_id) is None:
            raise Invalid(f"department {department_id} does not exist in account {account_id}")
    agent = uow.agents.create(
        Agent(
            id=0,
            account_id=account_id,
            name=name.strip(),
            email=email,
            password_hash=hash_password(password),
            role=role,
            photo_url=photo_url,
            department_ids=sorted(set(department_ids)),
            created_at=uow.now,
        )
    )
    return CreatedAgent(agent=agent, api_key=issue_api_key(uow, agent))


def issue_api_key(uow: UnitOfWork, agent: Agent) -> str:
    key = new_token("hla_")
    uow.agents.add_key(agent.id, token_hash(key), uow.now)
    return key


def login(uow: UnitOfWork, email: str, password: str) -> CreatedAgent:
    agent = uow.agents.by_email(email.strip().lower())
    if agent is None or not verify_password(agent.password_hash, password):
        raise Unauthorized("wrong email or password")
    return CreatedAgent(agent=agent, api_key=issue_api_key(uow, agent))
