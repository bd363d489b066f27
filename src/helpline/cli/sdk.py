"""``helpline department create|update --sdk`` and ``helpline sdk list|push``: departments open to SDK
clients ("inboxes") and the push webhook of each.

These names and flags are a contract (scripts depend on them): add, never rename.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from helpline.cli import widget as widget_cli
from helpline.cli.output import emit
from helpline.core import inboxes
from helpline.core.errors import Invalid
from helpline.core.inboxes import Inbox
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

Command = Callable[[argparse.Namespace, Store], int]
Common = Callable[[argparse.ArgumentParser], None]


def add_department_flags(create: argparse.ArgumentParser, update: argparse.ArgumentParser) -> None:
    """``--sdk`` on ``department create``; ``--sdk`` / ``--no-sdk`` on ``department update``."""
    create.add_argument(
        "--sdk", action="store_true", help="open the department to SDK clients (it gets a public identifier)"
    )
    switch = update.add_mutually_exclusive_group()
    switch.add_argument(
        "--sdk", dest="sdk", action="store_const", const=True, default=None, help="open it to SDK clients"
    )
    switch.add_argument(
        "--no-sdk", dest="sdk", action="store_const", const=False, help="close it to SDK clients"
    )
    widget_cli.add_department_flags(create, update)


def requested(args: argparse.Namespace) -> bool:
    """Whether ``department update`` was asked to open or close the department to SDK clients."""
    return getattr(args, "sdk", None) is not None or widget_cli.requested(args)


def apply(uow: UnitOfWork, args: argparse.Namespace, department_id: int) -> dict[str, Any]:
    """Open or close the department as ``--sdk``/``--no-sdk`` say; the fields to add to its record."""
    wanted = getattr(args, "sdk", None)
    if wanted is None or (wanted is False and args.action == "create"):
        return widget_cli.apply(uow, args, department_id)
    return inbox_record(inboxes.set_open(uow, department_id, bool(wanted))) | widget_cli.apply(
        uow, args, department_id
    )


def inbox_record(inbox: Inbox) -> dict[str, Any]:
    return {"sdk": inbox.enabled, "sdk_identifier": inbox.identifier}


def add_parsers(top: Any, common: Common) -> None:
    sdk = top.add_parser("sdk", help="departments open to SDK clients, and their push webhooks")
    actions = sdk.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="departments open to SDK clients, with their identifiers")
    listing.add_argument("--account", type=int, help="only this account's (default: every account)")
    common(listing)
    push = actions.add_parser(
        "push",
        help="set (or --clear) the push webhook of a department open to SDK clients",
        description="The webhook gets {type, event_name, push_tokens, payload, additional_params} on an "
        "agent's or bot's new message and on a change of status, for contacts with registered devices.",
    )
    push.add_argument("--department", type=int, required=True, help="the department's id (sdk list)")
    target = push.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="where push notifications are POSTed")
    target.add_argument("--clear", action="store_true", help="stop sending push notifications")
    push.add_argument("--bearer", help="send 'Authorization: Bearer <this>' with every call")
    push.add_argument(
        "--header", action="append", default=[], metavar="NAME: VALUE", help="an extra header (repeat)"
    )
    push.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an entry of additional_params (repeat; a JSON value is kept as such, else as a string)",
    )
    common(push)


def _headers(args: argparse.Namespace) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in args.header:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise Invalid(f"--header takes 'Name: value' (got {item!r})")
        headers[name.strip()] = value.strip()
    if args.bearer:
        headers["authorization"] = f"Bearer {args.bearer}"
    return headers


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in args.param:
        key, equals, raw = item.partition("=")
        if not equals or not key.strip():
            raise Invalid(f"--param takes KEY=VALUE (got {item!r})")
        try:
            params[key.strip()] = json.loads(raw)
        except ValueError:
            params[key.strip()] = raw
    return params


def _list(args: argparse.Namespace, store: Store) -> int:
    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        listed = []
        for inbox in uow.sdk.inboxes.enabled(args.account):
            endpoint = uow.endpoints.get(inbox.push_endpoint_id) if inbox.push_endpoint_id else None
            listed.append(
                {
                    "department_id": inbox.department_id,
                    "account_id": inbox.account_id,
                    "name": inbox.name,
                    **inbox_record(inbox),
                    "push_webhook_url": endpoint.url if endpoint else None,
                    "push_header_names": sorted(endpoint.headers) if endpoint else [],
                    "push_params": inbox.push_params,
                }
            )
        return listed

    emit({"inboxes": store.read_sync(work)}, args.json)
    return 0


def _push(args: argparse.Namespace, store: Store) -> int:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        if args.clear:
            inbox = inboxes.clear_push(uow, args.department)
            return {"department_id": inbox.department_id, "push_webhook_url": None}
        setup = inboxes.configure_push(uow, args.department, args.url, _headers(args), _params(args))
        record: dict[str, Any] = {
            "department_id": setup.inbox.department_id,
            **inbox_record(setup.inbox),
            "push_webhook_url": setup.url,
            "push_header_names": sorted(setup.headers),
            "push_params": setup.inbox.push_params,
        }
        if setup.signing_secret is not None:
            record["push_signing_secret"] = setup.signing_secret
        return record

    emit(store.write_sync(work), args.json)
    return 0


COMMANDS: dict[tuple[str, str | None], Command] = {("sdk", "list"): _list, ("sdk", "push"): _push}
