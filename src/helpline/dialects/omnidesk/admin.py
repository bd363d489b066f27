"""What an operator sets up for Omnidesk chats: chat tokens, the chat configuration, brands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpline.core.admin import require_account
from helpline.core.credentials import new_signing_secret, new_token, token_hash
from helpline.core.errors import Invalid, NotFound
from helpline.dialects.omnidesk import chat_config
from helpline.dialects.omnidesk.repository import Brand, ChatToken, OmnideskRepository
from helpline.store.unit_of_work import UnitOfWork


@dataclass(slots=True)
class IssuedChatToken:
    token: ChatToken
    account_token: str
    server_token: str


def _department(uow: UnitOfWork, account_id: int, department_id: int) -> None:
    if uow.departments.get(account_id, department_id) is None:
        raise Invalid(f"department {department_id} does not exist in account {account_id}")


def create_chat_token(
    uow: UnitOfWork, account_id: int, department_id: int, hide_when_offline: bool = False
) -> IssuedChatToken:
    """A ``chatAccountToken`` / ``chatServerToken`` pair (shown once) for chats into ``department_id``,
    with the secret that signs its sessions' hookpoint calls."""
    require_account(uow, account_id)
    _department(uow, account_id, department_id)
    account_token = new_token()
    server_token = new_token()
    token = OmnideskRepository.from_uow(uow).create_token(
        account_id,
        department_id,
        token_hash(account_token),
        token_hash(server_token),
        account_token[:6],
        new_signing_secret(),
        hide_when_offline,
        uow.now,
    )
    return IssuedChatToken(token, account_token, server_token)


def existing_token(uow: UnitOfWork, token_id: int) -> ChatToken:
    found = OmnideskRepository.from_uow(uow).token(token_id)
    if found is None:
        raise NotFound(f"chat token {token_id} does not exist")
    return found


def update_chat_token(
    uow: UnitOfWork, token_id: int, hide_when_offline: bool | None, require_token: bool | None = None
) -> ChatToken:
    """Change what is given (None: leave it)."""
    token = existing_token(uow, token_id)
    if hide_when_offline is not None:
        OmnideskRepository.from_uow(uow).set_hide_when_offline(token.id, hide_when_offline)
        token.hide_when_offline = hide_when_offline
    if require_token is not None:
        OmnideskRepository.from_uow(uow).set_require_token(token.id, require_token)
        token.require_token = require_token
    return token


def revoke_chat_token(uow: UnitOfWork, token_id: int) -> ChatToken:
    token = existing_token(uow, token_id)
    OmnideskRepository.from_uow(uow).revoke_token(token.id, uow.now)
    token.active = False
    return token


def show_chat_config(uow: UnitOfWork, account_id: int) -> dict[str, Any]:
    require_account(uow, account_id)
    config, switches = chat_config.effective(OmnideskRepository.from_uow(uow).config(account_id))
    return {"account_id": account_id, "config": config, **switches}


def set_chat_config(uow: UnitOfWork, account_id: int, changes: dict[str, str]) -> dict[str, Any]:
    require_account(uow, account_id)
    if not changes:
        raise Invalid("give at least one KEY=VALUE")
    stored = chat_config.updated(OmnideskRepository.from_uow(uow).config(account_id), changes)
    OmnideskRepository.from_uow(uow).save_config(account_id, stored, uow.now)
    return show_chat_config(uow, account_id)


def create_brand(uow: UnitOfWork, account_id: int, name: str, department_id: int | None = None) -> Brand:
    """A brand chatbot logs can name (``brandID``); with a department, its tickets go there."""
    require_account(uow, account_id)
    if not name.strip():
        raise Invalid("a brand needs a name")
    if department_id is not None:
        _department(uow, account_id, department_id)
    return OmnideskRepository.from_uow(uow).create_brand(account_id, name.strip(), department_id, uow.now)
