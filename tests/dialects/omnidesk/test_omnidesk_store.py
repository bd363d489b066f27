"""The Omnidesk repository through the real stores, on SQLite and PostgreSQL (``any_store``)."""

from __future__ import annotations

import secrets
import sqlite3

import psycopg
import pytest
from store_backends import add_department

from helpline.core.model import Conversation, ConversationState
from helpline.dialects.omnidesk.repository import OmnideskRepository
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


def _world(uow: UnitOfWork) -> tuple[int, int, int]:
    account = uow.accounts.create("Acme", 1.0)
    department = add_department(uow, account.id)
    token = OmnideskRepository.from_uow(uow).create_token(
        account.id, department.id, "hash-a", "hash-s", "abc123", "whsec_x", True, 2.0
    )
    return account.id, department.id, token.id


def _conversation(uow: UnitOfWork, account_id: int, department_id: int) -> int:
    return uow.conversations.create(
        Conversation(
            id=0,
            hash=secrets.token_hex(8),
            account_id=account_id,
            department_id=department_id,
            origin_department_id=department_id,
            contact_id=None,
            state=ConversationState.QUEUED,
            origin_dialect="omnidesk",
            created_at=uow.now,
        )
    ).id


def test_chat_tokens_store_hashes_options_and_revocation(any_store: Store) -> None:
    account_id, department_id, token_id = any_store.write_sync(_world)
    found = any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).token_by_hash("hash-a"))
    assert found is not None
    assert (found.id, found.account_id, found.department_id) == (token_id, account_id, department_id)
    assert (found.server_token_hash, found.prefix, found.signing_secret) == ("hash-s", "abc123", "whsec_x")
    assert (found.hide_when_offline, found.active, found.created_at) == (True, True, 2.0)
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).token_by_hash("hash-s")) is None
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).token(token_id)) == found

    any_store.write_sync(lambda uow: OmnideskRepository.from_uow(uow).set_hide_when_offline(token_id, False))
    any_store.write_sync(lambda uow: OmnideskRepository.from_uow(uow).hold_token(token_id))
    any_store.write_sync(lambda uow: OmnideskRepository.from_uow(uow).revoke_token(token_id, 3.0))
    [listed] = any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).tokens(account_id))
    assert (listed.hide_when_offline, listed.active) == (False, False)
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).tokens(account_id + 1)) == []
    assert len(any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).tokens())) == 1

    with pytest.raises(INTEGRITY_ERRORS):  # one account token hash, one row
        any_store.write_sync(
            lambda uow: OmnideskRepository.from_uow(uow).create_token(
                account_id, department_id, "hash-a", "s2", "p", "w", False, 4.0
            )
        )


def test_chat_configuration_is_kept_per_account(any_store: Store) -> None:
    account_id, _, _ = any_store.write_sync(_world)
    other = any_store.write_sync(lambda uow: uow.accounts.create("Globex", 1.0)).id
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).config(account_id)) == {}
    any_store.write_sync(
        lambda uow: OmnideskRepository.from_uow(uow).save_config(account_id, {"header_color": "#000"}, 5.0)
    )
    any_store.write_sync(
        lambda uow: OmnideskRepository.from_uow(uow).save_config(
            account_id, {"header_color": "#fff", "show_team": True}, 6.0
        )
    )
    any_store.write_sync(
        lambda uow: OmnideskRepository.from_uow(uow).save_config(other, {"chat_logo": "☂"}, 6.0)
    )
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).config(account_id)) == {
        "header_color": "#fff",
        "show_team": True,
    }
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).config(other)) == {
        "chat_logo": "☂"
    }


def test_brands_are_scoped_by_account(any_store: Store) -> None:
    account_id, department_id, _ = any_store.write_sync(_world)
    other = any_store.write_sync(lambda uow: uow.accounts.create("Globex", 1.0)).id
    shop = any_store.write_sync(
        lambda uow: OmnideskRepository.from_uow(uow).create_brand(account_id, "Shop", department_id, 7.0)
    )
    plain = any_store.write_sync(
        lambda uow: OmnideskRepository.from_uow(uow).create_brand(account_id, "Plain", None, 8.0)
    )
    theirs = any_store.write_sync(
        lambda uow: OmnideskRepository.from_uow(uow).create_brand(other, "Theirs", None, 9.0)
    )
    assert (
        any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).brand(account_id, shop.id)) == shop
    )
    assert (
        any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).brand(account_id, theirs.id)) is None
    )
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).brands(account_id)) == [
        shop,
        plain,
    ]
    assert any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).brands()) == [shop, plain, theirs]


def test_sessions_latest_by_key_by_conversation_and_moving(any_store: Store) -> None:
    account_id, department_id, token_id = any_store.write_sync(_world)

    def open_two(uow: UnitOfWork) -> tuple[int, int, int]:
        first = _conversation(uow, account_id, department_id)
        second = _conversation(uow, account_id, department_id)
        endpoint = uow.endpoints.create(
            account_id, "omnidesk_chat_server", "https://a.example", "whsec_x", 1.0
        )
        OmnideskRepository.from_uow(uow).add_session(
            account_id, token_id, "key-1", first, endpoint.id, "https://a.example", 10.0
        )
        OmnideskRepository.from_uow(uow).add_session(
            account_id, token_id, "key-1", second, endpoint.id, "https://a.example", 11.0
        )
        return first, second, endpoint.id

    first, second, endpoint_id = any_store.write_sync(open_two)
    latest = any_store.read_sync(
        lambda uow: OmnideskRepository.from_uow(uow).latest_session(token_id, "key-1")
    )
    assert latest is not None
    assert (latest.conversation_id, latest.session_key, latest.endpoint_id) == (second, "key-1", endpoint_id)
    assert (
        any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).latest_session(token_id, "key-2"))
        is None
    )
    assert [
        s.conversation_id
        for s in any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).sessions_by_key("key-1"))
    ] == [
        second,
        first,
    ]
    by_conversation = any_store.read_sync(
        lambda uow: OmnideskRepository.from_uow(uow).session_for_conversation(first)
    )
    assert by_conversation is not None
    assert by_conversation.created_at == 10.0
    any_store.write_sync(
        lambda uow: OmnideskRepository.from_uow(uow).move_session(latest.id, "https://b.example")
    )
    moved = any_store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).session_for_conversation(second))
    assert moved is not None
    assert moved.chat_server == "https://b.example"

    with pytest.raises(INTEGRITY_ERRORS):  # one session row per conversation
        any_store.write_sync(
            lambda uow: OmnideskRepository.from_uow(uow).add_session(
                account_id, token_id, "key-3", first, endpoint_id, "https://a.example", 12.0
            )
        )
