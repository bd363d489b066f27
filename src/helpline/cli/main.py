"""``helpline``: serve, migrate, and create/list accounts, departments, tokens, agents and deliveries.

These names and flags are a contract (scripts depend on them): add, never rename.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from helpline import __version__
from helpline.cli import departments as departments_cli
from helpline.cli import keys as keys_cli
from helpline.cli import omnidesk as omnidesk_cli
from helpline.cli import output, records
from helpline.cli import sdk as sdk_cli
from helpline.cli import widget as widget_cli
from helpline.cli.checks import guard_warning
from helpline.cli.output import emit, fail
from helpline.config import Settings, from_env
from helpline.core import admin
from helpline.core.errors import DomainError
from helpline.core.model import Role
from helpline.store.base import Store
from helpline.store.open import open_store
from helpline.store.secret_box import SecretKeyError
from helpline.store.unit_of_work import UnitOfWork


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    parser.add_argument(
        "--database-url",
        help="sqlite:///PATH or postgresql://... (default: $HELPLINE_DATABASE_URL, else SQLite in the data dir)",
    )
    parser.add_argument(
        "--data-dir", help="where the SQLite file lives (default: $HELPLINE_DATA_DIR or ./helpline-data)"
    )


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error under ``--json`` is one JSON object too (subcommands inherit
    the class)."""

    def error(self, message: str) -> NoReturn:
        if output.json_errors:
            output.fail(message, usage=self.format_usage().strip())
            sys.exit(2)
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="helpline", description="Helpline live-chat server")
    parser.add_argument("--version", action="version", version=f"helpline {__version__}")
    top = parser.add_subparsers(dest="command", required=True)

    serve = top.add_parser("serve", help="run the server (creates or migrates the database first)")
    _common(serve)
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument(
        "--redis-url",
        help="redis://HOST:PORT/DB for fan-out across processes (default: $HELPLINE_REDIS_URL, else none)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="how much the server logs (default info: one line per request)",
    )

    migrate = top.add_parser("migrate", help="create or upgrade the database schema")
    _common(migrate)

    account = top.add_parser("account", help="accounts (tenants)").add_subparsers(
        dest="action", required=True
    )
    create = account.add_parser("create", help="create an account")
    create.add_argument("name", help="the account's name (a tenant: a company or a brand)")
    _common(create)
    _common(account.add_parser("list", help="list accounts"))

    departments_cli.add_parsers(top, _common)

    token = top.add_parser("token", help="API tokens and their webhooks").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", help="issue a token (shown once)")
    create.add_argument("--account", type=int, required=True, help="the account's id (account list)")
    create.add_argument("--webhook-url", help="where this token's triggers are POSTed")
    _common(create)
    listing = token.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--account", type=int, help="only this account's (default: every account)")
    _common(listing)
    revoke = token.add_parser("revoke", help="disable a token")
    revoke.add_argument("id", type=int, help="the token's id (token list)")
    _common(revoke)

    agent = top.add_parser("agent", help="agents").add_subparsers(dest="action", required=True)
    create = agent.add_parser("create", help="create an agent (prints an API key once)")
    create.add_argument("--account", type=int, required=True, help="the account's id (account list)")
    create.add_argument("--name", required=True, help="the name customers see")
    create.add_argument("--email", required=True, help="the console sign-in (unique)")
    create.add_argument("--password", required=True, help="the console password (stored as an argon2 hash)")
    create.add_argument("--department", type=int, action="append", default=[], help="repeat for several")
    create.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default="agent",
        help="admins also manage departments, agents, tokens and deliveries (default agent)",
    )
    create.add_argument("--photo-url", help="a picture of the agent that customers' apps may show")
    _common(create)
    listing = agent.add_parser("list", help="list agents")
    listing.add_argument("--account", type=int, help="only this account's (default: every account)")
    _common(listing)

    deliveries = top.add_parser("deliveries", help="the outbound delivery log").add_subparsers(
        dest="action", required=True
    )
    listing = deliveries.add_parser("list", help="list deliveries, newest first, with their attempts")
    listing.add_argument("--account", type=int, help="only this account's (default: every account)")
    listing.add_argument(
        "--state", choices=["pending", "succeeded", "failed"], help="only deliveries in this state"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    _common(listing)
    replay = deliveries.add_parser("replay", help="send a delivery again (same webhook-id)")
    replay.add_argument("id", type=int, help="the delivery's id (deliveries list)")
    _common(replay)
    omnidesk_cli.add_parsers(top, _common)
    sdk_cli.add_parsers(top, _common)
    keys_cli.add_parsers(top, _common)
    widget_cli.add_parsers(top, _common)
    return parser


def settings_for(args: argparse.Namespace) -> Settings:
    settings = from_env()
    if args.data_dir:
        settings.data_dir = args.data_dir
    if args.database_url:
        settings.database_url = args.database_url
    if getattr(args, "host", None):
        settings.host = args.host
    if getattr(args, "port", None):
        settings.port = args.port
    if getattr(args, "redis_url", None):
        settings.redis_url = args.redis_url
    return settings


Command = Callable[[argparse.Namespace, Store], int]


def _account_create(args: argparse.Namespace, store: Store) -> int:
    account = store.write_sync(lambda uow: admin.create_account(uow, args.name))
    emit(records.account(account), args.json)
    return 0


def _account_list(args: argparse.Namespace, store: Store) -> int:
    found = store.read_sync(lambda uow: uow.accounts.list())
    emit({"accounts": [records.account(a) for a in found]}, args.json)
    return 0


def _token_create(args: argparse.Namespace, store: Store) -> int:
    issued = store.write_sync(lambda uow: admin.create_token(uow, args.account, args.webhook_url))
    record = records.issued_token(issued)
    warning = guard_warning(args.webhook_url, from_env().outbound_allow) if args.webhook_url else None
    if warning:
        record["warning"] = warning
        sys.stderr.write(f"helpline: warning: {warning}\n")
    emit(record, args.json)
    return 0


def _token_list(args: argparse.Namespace, store: Store) -> int:
    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        return [
            records.token(t, uow.endpoints.get(t.endpoint_id) if t.endpoint_id else None)
            for t in uow.tokens.list(args.account)
        ]

    emit({"tokens": store.read_sync(work)}, args.json)
    return 0


def _token_revoke(args: argparse.Namespace, store: Store) -> int:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        if uow.tokens.get(args.id) is None:
            raise DomainError(f"token {args.id} does not exist")
        uow.tokens.revoke(args.id, uow.now)
        found = uow.tokens.get(args.id)
        assert found is not None
        return records.token(found, None)

    emit(store.write_sync(work), args.json)
    return 0


def _agent_create(args: argparse.Namespace, store: Store) -> int:
    created = store.write_sync(
        lambda uow: admin.create_agent(
            uow,
            args.account,
            args.name,
            args.email,
            args.password,
            args.department,
            Role(args.role),
            args.photo_url,
        )
    )
    emit(records.agent(created.agent) | {"api_key": created.api_key}, args.json)
    return 0


def _agent_list(args: argparse.Namespace, store: Store) -> int:
    found = store.read_sync(lambda uow: uow.agents.list(args.account))
    emit({"agents": [records.agent(a) for a in found]}, args.json)
    return 0


def _deliveries_list(args: argparse.Namespace, store: Store) -> int:
    from helpline.outbound import operator

    found = operator.list_deliveries(store, args.account, args.state, args.limit)
    emit({"deliveries": found}, args.json)
    return 0


def _deliveries_replay(args: argparse.Namespace, store: Store) -> int:
    from helpline.outbound import operator

    emit(operator.replay(store, args.id), args.json)
    return 0


COMMANDS: dict[tuple[str, str | None], Command] = {
    ("account", "create"): _account_create,
    ("account", "list"): _account_list,
    ("token", "create"): _token_create,
    ("token", "list"): _token_list,
    ("token", "revoke"): _token_revoke,
    ("agent", "create"): _agent_create,
    ("agent", "list"): _agent_list,
    ("deliveries", "list"): _deliveries_list,
    ("deliveries", "replay"): _deliveries_replay,
    **departments_cli.COMMANDS,
    **omnidesk_cli.COMMANDS,
    **sdk_cli.COMMANDS,
    **keys_cli.COMMANDS,
    **widget_cli.COMMANDS,
}


def _innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    for dest in ("command", "action"):
        chosen = getattr(args, dest, None)
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if chosen is None or not actions or chosen not in actions[0].choices:
            break
        parser = actions[0].choices[chosen]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    output.json_errors = "--json" in arguments
    parser = build_parser()
    args, unknown = parser.parse_known_args(arguments)
    if unknown:  # said by the command's own parser, with its own usage (argparse would show the top's)
        _innermost(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    settings = settings_for(args)
    if args.command == "serve":
        from helpline.cli.serve import serve

        return serve(settings, args.log_level)
    try:
        store = open_store(settings.resolved_database_url(), data_dir=settings.data_dir)
    except Exception as problem:  # a bad URL or an unreachable database: say which
        return fail(f"cannot open the database {settings.resolved_database_url()}: {problem}")
    try:
        if args.command == "migrate":
            emit({"migrated": True, "database_url": store.url}, args.json)
            return 0
        return COMMANDS[(args.command, getattr(args, "action", None))](args, store)
    except DomainError as refusal:
        return fail(refusal.message)
    except SecretKeyError as problem:
        return fail(str(problem))
    finally:
        store.close_sync()


if __name__ == "__main__":
    sys.exit(main())
