"""``helpline chat-token|chat-config|brand``: what an operator sets up for Omnidesk chats.

These names and flags are a contract (scripts depend on them): add, never rename.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from helpline.cli.output import emit
from helpline.core.errors import DomainError
from helpline.dialects.omnidesk import admin
from helpline.dialects.omnidesk.chat_config import KEYS, parse_assignments
from helpline.dialects.omnidesk.repository import Brand, ChatToken, OmnideskRepository
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

Command = Callable[[argparse.Namespace, Store], int]
Common = Callable[[argparse.ArgumentParser], None]


def add_parsers(top: Any, common: Common) -> None:
    """Add the commands to ``helpline``'s subcommands (``top``); ``common`` adds ``--json`` and friends."""
    token = top.add_parser("chat-token", help="Omnidesk chat tokens (chatAccountToken / chatServerToken)")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", help="issue a chat token pair and its hookpoint signing secret (shown once)"
    )
    create.add_argument("--account", type=int, required=True, help="the account's id (account list)")
    create.add_argument("--department", type=int, required=True, help="where its chats go")
    create.add_argument(
        "--hide-when-offline",
        action="store_true",
        help="requestChatConfig tells the widget to hide while no agent of the department is online",
    )
    common(create)
    listing = actions.add_parser("list", help="list chat tokens (never their secrets)")
    listing.add_argument("--account", type=int, help="only this account's (default: every account)")
    common(listing)
    update = actions.add_parser(
        "update",
        help="change a chat token's options",
        description="Give at least one of the options; the others stay as they are.",
    )
    update.add_argument("id", type=int, help="the chat token's id (chat-token list)")
    switch = update.add_mutually_exclusive_group()
    switch.add_argument(
        "--hide-when-offline",
        dest="hide",
        action="store_true",
        default=None,
        help="requestChatConfig tells the widget to hide while no agent of the department is online",
    )
    switch.add_argument(
        "--show-when-offline", dest="hide", action="store_false", help="the widget shows either way"
    )
    required = update.add_mutually_exclusive_group()
    required.add_argument(
        "--require-token",
        dest="require_token",
        action="store_true",
        default=None,
        help="notifyUserNewChatEvent and notifyUserEndChat must send this chatAccountToken "
        "(the seed sends none: a widget that follows it to the letter then gets 401)",
    )
    required.add_argument(
        "--no-require-token",
        dest="require_token",
        action="store_false",
        help="as the seed: the chat session id and chatServer suffice (a token sent is still checked)",
    )
    common(update)
    revoke = actions.add_parser("revoke", help="disable a chat token")
    revoke.add_argument("id", type=int, help="the chat token's id (chat-token list)")
    common(revoke)

    config = top.add_parser("chat-config", help="the chat widget's configuration per account")
    actions = config.add_subparsers(dest="action", required=True)
    setting = actions.add_parser(
        "set", help="set configuration keys", description="Keys: " + ", ".join(KEYS) + "."
    )
    setting.add_argument("--account", type=int, required=True, help="the account's id (account list)")
    setting.add_argument(
        "assignments", nargs="+", metavar="KEY=VALUE", help="a key and its new value (repeat)"
    )
    common(setting)
    show = actions.add_parser("show", help="the configuration requestChatConfig answers with")
    show.add_argument("--account", type=int, required=True, help="the account's id (account list)")
    common(show)

    brand = top.add_parser("brand", help="brands that chatbot logs name (brandID)")
    actions = brand.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a brand")
    create.add_argument("--account", type=int, required=True, help="the account's id (account list)")
    create.add_argument("name", help="the brand's name")
    create.add_argument("--department", type=int, help="its chatbot tickets go to this department")
    common(create)
    listing = actions.add_parser("list", help="list brands")
    listing.add_argument("--account", type=int, help="only this account's (default: every account)")
    common(listing)


def chat_token_record(token: ChatToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "account_id": token.account_id,
        "department_id": token.department_id,
        "prefix": token.prefix,
        "hide_when_offline": token.hide_when_offline,
        "require_token": token.require_token,
        "active": token.active,
        "created_at": token.created_at,
    }


def brand_record(brand: Brand) -> dict[str, Any]:
    return {
        "id": brand.id,
        "account_id": brand.account_id,
        "name": brand.name,
        "department_id": brand.department_id,
        "created_at": brand.created_at,
    }


def _token_create(args: argparse.Namespace, store: Store) -> int:
    issued = store.write_sync(
        lambda uow: admin.create_chat_token(uow, args.account, args.department, args.hide_when_offline)
    )
    emit(
        chat_token_record(issued.token)
        | {
            "chatAccountToken": issued.account_token,
            "chatServerToken": issued.server_token,
            "signing_secret": issued.token.signing_secret,
        },
        args.json,
    )
    return 0


def _token_list(args: argparse.Namespace, store: Store) -> int:
    found = store.read_sync(lambda uow: OmnideskRepository.from_uow(uow).tokens(args.account))
    emit({"chat_tokens": [chat_token_record(t) for t in found]}, args.json)
    return 0


def _token_update(args: argparse.Namespace, store: Store) -> int:
    if args.hide is None and args.require_token is None:
        raise DomainError(
            "nothing to change: give --hide-when-offline, --show-when-offline, --require-token or --no-require-token"
        )
    token = store.write_sync(lambda uow: admin.update_chat_token(uow, args.id, args.hide, args.require_token))
    emit(chat_token_record(token), args.json)
    return 0


def _token_revoke(args: argparse.Namespace, store: Store) -> int:
    token = store.write_sync(lambda uow: admin.revoke_chat_token(uow, args.id))
    emit(chat_token_record(token), args.json)
    return 0


def _config_set(args: argparse.Namespace, store: Store) -> int:
    changes = parse_assignments(args.assignments)
    emit(store.write_sync(lambda uow: admin.set_chat_config(uow, args.account, changes)), args.json)
    return 0


def _config_show(args: argparse.Namespace, store: Store) -> int:
    emit(store.read_sync(lambda uow: admin.show_chat_config(uow, args.account)), args.json)
    return 0


def _brand_create(args: argparse.Namespace, store: Store) -> int:
    brand = store.write_sync(lambda uow: admin.create_brand(uow, args.account, args.name, args.department))
    emit(brand_record(brand), args.json)
    return 0


def _brand_list(args: argparse.Namespace, store: Store) -> int:
    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        return [brand_record(b) for b in OmnideskRepository.from_uow(uow).brands(args.account)]

    emit({"brands": store.read_sync(work)}, args.json)
    return 0


COMMANDS: dict[tuple[str, str | None], Command] = {
    ("chat-token", "create"): _token_create,
    ("chat-token", "list"): _token_list,
    ("chat-token", "update"): _token_update,
    ("chat-token", "revoke"): _token_revoke,
    ("chat-config", "set"): _config_set,
    ("chat-config", "show"): _config_show,
    ("brand", "create"): _brand_create,
    ("brand", "list"): _brand_list,
}
