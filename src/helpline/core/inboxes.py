"""Departments open to SDK clients ("inboxes"), and the push webhook of each.

An operator opens a department to SDK clients; it gets a public identifier (not a secret: the widget or
app names its inbox with it when an account has several). The push webhook of an inbox is an endpoint of
kind ``push`` (signed like every webhook, with optional extra headers such as an ``Authorization``) and a
JSON object of parameters that every push body carries.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from typing import Protocol

from helpline.core.channel import random_base62
from helpline.core.credentials import new_signing_secret
from helpline.core.errors import Invalid, NotFound
from helpline.core.model import Department, JsonObject
from helpline.core.ports import UnitOfWork

PUSH_ENDPOINT_KIND = "push"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "user-agent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)


@dataclass(slots=True)
class Inbox:
    department_id: int
    account_id: int
    name: str
    enabled: bool
    identifier: str | None
    push_endpoint_id: int | None
    push_params: JsonObject = field(default_factory=dict)


class InboxRepository(Protocol):
    def get(self, department_id: int) -> Inbox | None: ...
    def by_identifier(self, identifier: str) -> Inbox | None: ...
    def enabled(self, account_id: int | None = None) -> builtins.list[Inbox]: ...
    def set_enabled(self, department_id: int, enabled: bool, identifier: str | None) -> None:
        """Open or close; the identifier is kept once set (a closed inbox reopens under the same one)."""
        ...

    def set_push(self, department_id: int, endpoint_id: int | None, params: JsonObject | None) -> None: ...


class EndpointHeaderRepository(Protocol):
    def set(self, endpoint_id: int, headers: dict[str, str]) -> None: ...


class InboxRepositories(Protocol):
    @property
    def inboxes(self) -> InboxRepository: ...
    @property
    def endpoint_headers(self) -> EndpointHeaderRepository: ...


class InboxUnitOfWork(UnitOfWork, Protocol):
    @property
    def sdk(self) -> InboxRepositories: ...


def _department(uow: InboxUnitOfWork, department_id: int) -> Department:
    found = next((d for d in uow.departments.list() if d.id == department_id), None)
    if found is None:
        raise NotFound(f"department {department_id} does not exist")
    return found


def _inbox(uow: InboxUnitOfWork, department_id: int) -> Inbox:
    inbox = uow.sdk.inboxes.get(department_id)
    if inbox is None:
        raise NotFound(f"department {department_id} does not exist")
    return inbox


def set_open(uow: InboxUnitOfWork, department_id: int, enabled: bool) -> Inbox:
    """Open a department to SDK clients (it gets its identifier the first time) or close it."""
    _department(uow, department_id)
    uow.sdk.inboxes.set_enabled(department_id, enabled, random_base62(16) if enabled else None)
    return _inbox(uow, department_id)


def resolve(uow: InboxUnitOfWork, identifier: str | None) -> Inbox:
    """The inbox a new SDK client names; without a name, the only one on the server."""
    if identifier:
        inbox = uow.sdk.inboxes.by_identifier(identifier)
        if inbox is None or not inbox.enabled:
            raise NotFound(f"inbox {identifier!r} not found")
        return inbox
    found = uow.sdk.inboxes.enabled()
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound("no inbox is open to SDK clients on this server")
    raise Invalid(
        f"{len(found)} inboxes are open to SDK clients: name one with ?inbox=<identifier> "
        "or the X-Inbox-Identifier header"
    )


def clean_headers(raw: dict[str, str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw.items():
        lowered = name.strip().lower()
        if not _HEADER_NAME.match(lowered):
            raise Invalid(f"{name!r} is not a valid header name")
        if lowered in RESERVED_HEADERS:
            raise Invalid(f"the {lowered} header is set by the server and cannot be configured")
        if any(ch in value for ch in "\r\n\0"):
            raise Invalid(f"the value of header {name!r} cannot contain line breaks")
        headers[lowered] = value.strip()
    return headers


@dataclass(slots=True)
class PushSetup:
    inbox: Inbox
    url: str
    headers: dict[str, str]
    signing_secret: str | None  # shown once, when the endpoint is first made


def configure_push(
    uow: InboxUnitOfWork,
    department_id: int,
    url: str,
    headers: dict[str, str] | None = None,
    params: JsonObject | None = None,
) -> PushSetup:
    """Point the inbox's push webhook at ``url`` with these extra headers and body parameters (replacing
    earlier ones); the endpoint and its signing secret are made the first time."""
    department = _department(uow, department_id)
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise Invalid(f"the push webhook URL must start with http:// or https:// (got {url!r})")
    if params is not None and not isinstance(params, dict):
        raise Invalid("additional_params must be a JSON object")
    cleaned = clean_headers(headers or {})
    inbox = _inbox(uow, department_id)
    endpoint = uow.endpoints.get(inbox.push_endpoint_id) if inbox.push_endpoint_id else None
    secret = None
    if endpoint is None:
        endpoint = uow.endpoints.create(
            department.account_id, PUSH_ENDPOINT_KIND, url, new_signing_secret(), uow.now
        )
        secret = endpoint.secret
    else:
        uow.endpoints.update_url(endpoint.id, url)
    uow.sdk.endpoint_headers.set(endpoint.id, cleaned)
    uow.sdk.inboxes.set_push(department_id, endpoint.id, params or {})
    return PushSetup(inbox=_inbox(uow, department_id), url=url, headers=cleaned, signing_secret=secret)


def clear_push(uow: InboxUnitOfWork, department_id: int) -> Inbox:
    """No more push notifications for this inbox (the endpoint is disabled; its delivery log stays)."""
    _department(uow, department_id)
    inbox = _inbox(uow, department_id)
    if inbox.push_endpoint_id is not None:
        uow.endpoints.disable(inbox.push_endpoint_id, "push webhook removed by the operator")
    uow.sdk.inboxes.set_push(department_id, None, None)
    return _inbox(uow, department_id)
