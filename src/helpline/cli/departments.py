"""``helpline department create|list|update``: departments, their queue and capacity, their bot, and
whether SDK clients (and the web widget) may reach them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from helpline.cli import records
from helpline.cli import sdk as sdk_cli
from helpline.cli.output import emit
from helpline.core import admin, bots
from helpline.core.errors import DomainError
from helpline.core.model import Department
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


def add_parsers(top: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    department = top.add_parser("department", help="departments").add_subparsers(dest="action", required=True)
    create = department.add_parser("create", help="create a department")
    create.add_argument("--account", type=int, required=True, help="the account's id (account list)")
    create.add_argument("name", help="the department's name (unique in its account)")
    create.add_argument(
        "--no-queue", action="store_true", help="no waiting line: nobody online means unavailable"
    )
    create.add_argument(
        "--queued-max-time", type=int, default=900, help="seconds in the queue before unavailable"
    )
    create.add_argument("--ringing-max-time", type=int, default=60, help="seconds an offer rings an agent")
    create.add_argument("--capacity", type=int, default=5, help="conversations per agent for auto-assignment")
    create.add_argument(
        "--auto-assign", action="store_true", help="offer new conversations to agents by load"
    )
    create.add_argument("--inactive", action="store_true", help="create it switched off")
    create.add_argument(
        "--bot-url", help="an external bot owns the department's new conversations; its calls go here"
    )
    create.add_argument(
        "--bot-accept-timeout",
        type=int,
        default=30,
        help="seconds the bot has to accept before the conversation goes to humans (default 30)",
    )
    common(create)
    listing = department.add_parser("list", help="list departments")
    listing.add_argument("--account", type=int, help="only this account's (default: every account)")
    common(listing)
    update = department.add_parser(
        "update",
        help="change a department's settings or its bot",
        description="Give at least one option; what is not given stays as it is.",
    )
    update.add_argument("id", type=int, help="the department's id (department list)")
    update.add_argument("--name", help="rename it (unique in its account)")
    queue = update.add_mutually_exclusive_group()
    queue.add_argument(
        "--queue",
        dest="queue",
        action="store_true",
        default=None,
        help="conversations wait in line for an agent",
    )
    queue.add_argument(
        "--no-queue",
        dest="queue",
        action="store_false",
        help="no waiting line: nobody online means unavailable",
    )
    update.add_argument("--queued-max-time", type=int, help="seconds in the queue before unavailable")
    update.add_argument("--ringing-max-time", type=int, help="seconds an offer rings an agent")
    update.add_argument("--capacity", type=int, help="conversations per agent for auto-assignment")
    assign = update.add_mutually_exclusive_group()
    assign.add_argument(
        "--auto-assign",
        dest="auto_assign",
        action="store_true",
        default=None,
        help="offer new conversations to agents by load",
    )
    assign.add_argument(
        "--no-auto-assign", dest="auto_assign", action="store_false", help="agents pick from the queue"
    )
    active = update.add_mutually_exclusive_group()
    active.add_argument("--active", dest="active", action="store_true", default=None, help="switch it on")
    active.add_argument("--inactive", dest="active", action="store_false", help="switch it off")
    bot = update.add_mutually_exclusive_group()
    bot.add_argument("--bot-url", help="give the department an external bot (or repoint it)")
    bot.add_argument(
        "--no-bot", action="store_true", help="take the bot away; the conversations it holds go to humans"
    )
    update.add_argument("--bot-accept-timeout", type=int, help="seconds the bot has to accept")
    sdk_cli.add_department_flags(create, update)
    common(update)


def _department_create(args: argparse.Namespace, store: Store) -> int:
    draft = Department(
        id=0,
        account_id=args.account,
        name=args.name,
        active=not args.inactive,
        queue_enabled=not args.no_queue,
        queued_max_time=args.queued_max_time,
        ringing_max_time=args.ringing_max_time,
        capacity=args.capacity,
        auto_assign=args.auto_assign,
    )

    def work(uow: UnitOfWork) -> dict[str, Any]:
        department = admin.create_department(uow, draft)
        setup = bots.configure(
            uow, department.account_id, department.id, args.bot_url, args.bot_accept_timeout
        )
        record = records.bot_setup(setup) if args.bot_url else records.department(setup.department)
        return record | sdk_cli.apply(uow, args, department.id)

    emit(store.write_sync(work), args.json)
    return 0


def _department_changes(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "name": args.name,
        "queue_enabled": args.queue,
        "queued_max_time": args.queued_max_time,
        "ringing_max_time": args.ringing_max_time,
        "capacity": args.capacity,
        "auto_assign": args.auto_assign,
        "active": args.active,
    }
    return {name: value for name, value in given.items() if value is not None}


def _department_update(args: argparse.Namespace, store: Store) -> int:
    changes = _department_changes(args)

    def work(uow: UnitOfWork) -> dict[str, Any]:
        found = next((d for d in uow.departments.list() if d.id == args.id), None)
        if found is None:
            raise DomainError(f"department {args.id} does not exist")
        if (
            not changes
            and args.bot_url is None
            and not args.no_bot
            and args.bot_accept_timeout is None
            and not sdk_cli.requested(args)
        ):
            raise DomainError(
                "nothing to change: give --name, --queue/--no-queue, --queued-max-time, --ringing-max-time, "
                "--capacity, --auto-assign/--no-auto-assign, --active/--inactive, --bot-url URL, --no-bot, "
                "--bot-accept-timeout S, --sdk or --no-sdk"
            )
        if changes:
            admin.update_department(uow, found.account_id, found.id, changes)
        setup = bots.configure(uow, found.account_id, found.id, args.bot_url, args.bot_accept_timeout)
        if args.no_bot:
            removed = bots.remove(uow, found.account_id, found.id)
            setup.department, setup.fell_through = removed.department, removed.fell_through
        return records.bot_setup(setup) | sdk_cli.apply(uow, args, found.id)

    emit(store.write_sync(work), args.json)
    return 0


def _department_list(args: argparse.Namespace, store: Store) -> int:
    found = store.read_sync(lambda uow: uow.departments.list(args.account))
    emit({"departments": [records.department(d) for d in found]}, args.json)
    return 0


COMMANDS: dict[tuple[str, str | None], Callable[[argparse.Namespace, Store], int]] = {
    ("department", "create"): _department_create,
    ("department", "list"): _department_list,
    ("department", "update"): _department_update,
}
