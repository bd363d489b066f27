"""``helpline widget settings|snippet`` and ``--allowed-origin`` on ``department create|update``: the web
widget of a department open to SDK clients.

These names and flags are a contract (scripts depend on them): add, never rename.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from html import escape
from typing import Any

from helpline.cli.output import emit
from helpline.config import from_env
from helpline.core import widget
from helpline.core.errors import Invalid
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

Command = Callable[[argparse.Namespace, Store], int]
Common = Callable[[argparse.ArgumentParser], None]


def add_department_flags(*parsers: argparse.ArgumentParser) -> None:
    for parser in parsers:
        parser.add_argument(
            "--allowed-origin",
            action="append",
            default=[],
            metavar="ORIGIN",
            help="a site (https://shop.example) whose pages may embed the web widget; repeat; * for any",
        )


def requested(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "allowed_origin", None))


def apply(uow: UnitOfWork, args: argparse.Namespace, department_id: int) -> dict[str, Any]:
    """Add the ``--allowed-origin`` sites to the inbox; the fields to add to the department's record."""
    if not requested(args):
        return {}
    inbox = uow.sdk.inboxes.get(department_id)
    if inbox is None or not inbox.enabled:
        raise Invalid("--allowed-origin needs a department open to SDK clients: add --sdk")
    changed = widget.configure(uow, department_id, add_origins=args.allowed_origin)
    return {"allowed_origins": changed.allowed_origins}


def add_parsers(top: Any, common: Common) -> None:
    parser = top.add_parser("widget", help="the web widget of a department open to SDK clients")
    actions = parser.add_subparsers(dest="action", required=True)
    settings = actions.add_parser(
        "settings",
        help="show or change the widget's allowed origins, greeting, colour and pre-chat form",
        description="With only --department, shows the settings. Texts given as '' are cleared.",
    )
    settings.add_argument("--department", type=int, required=True, help="the department's id (sdk list)")
    settings.add_argument(
        "--allowed-origin", action="append", default=[], metavar="ORIGIN", help="add (repeat)"
    )
    settings.add_argument(
        "--remove-origin", action="append", default=[], metavar="ORIGIN", help="remove (repeat)"
    )
    settings.add_argument("--greeting", help="the first thing the customer reads in the panel")
    settings.add_argument("--color", help="the launcher's and header's colour, #rrggbb")
    settings.add_argument(
        "--prechat", choices=widget.PRECHAT, help="ask nothing, the name, or the name and email before a chat"
    )
    common(settings)
    snippet = actions.add_parser("snippet", help="the <script> tag to paste into a site's pages")
    snippet.add_argument("--department", type=int, required=True, help="the department's id (sdk list)")
    snippet.add_argument("--server", help="the server's public URL (default HELPLINE_PUBLIC_URL)")
    common(snippet)


def _settings(args: argparse.Namespace, store: Store) -> int:
    change = any(
        v not in (None, [])
        for v in (args.allowed_origin, args.remove_origin, args.greeting, args.color, args.prechat)
    )

    def work(uow: UnitOfWork) -> dict[str, Any]:
        if change:
            found = widget.configure(
                uow,
                args.department,
                add_origins=args.allowed_origin,
                remove_origins=args.remove_origin,
                greeting=args.greeting,
                color=args.color,
                prechat=args.prechat,
            )
        else:
            found = widget.settings_of(uow, args.department)
        return {"department_id": args.department, **widget.view(found)}

    emit(store.write_sync(work) if change else store.read_sync(work), args.json)
    return 0


def snippet_for(server: str, identifier: str) -> str:
    base = server.rstrip("/")
    return f'<script src="{escape(base)}/widget.js" data-inbox="{escape(identifier)}" async></script>'


def _snippet(args: argparse.Namespace, store: Store) -> int:
    inbox = store.read_sync(lambda uow: uow.sdk.inboxes.get(args.department))
    if inbox is None or not inbox.enabled or not inbox.identifier:
        raise Invalid(
            f"department {args.department} is not open to SDK clients: helpline department update {args.department} --sdk"
        )
    server = args.server or from_env().resolved_public_url()
    tag = snippet_for(server, inbox.identifier)
    emit({"department_id": args.department, "snippet": tag}, args.json, human=tag)
    return 0


COMMANDS: dict[tuple[str, str | None], Command] = {
    ("widget", "settings"): _settings,
    ("widget", "snippet"): _snippet,
}
