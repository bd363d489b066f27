"""``python -m bench.writer``: the store's writer alone, SQLite against PostgreSQL and against the floor's
one INSERT, in one run.

``python -m bench`` measures the whole path (HTTP, the writer, the hub, the websocket); on PostgreSQL a
message's time is mostly the writer's (one thread per process sends every unit of work's statements).
This takes everything else away: ``--callers`` asyncio tasks each run a customer's message as a unit of
work through ``store.write`` (``contact_message_by_hash``, the hot path of ``python -m bench``) as fast as
the store answers, over ``--conversations`` conversations, and prints the messages per second and the
process's CPU per message (the loop's and the writer's or checkpointer's threads) on each backend, and
their ratio. The SQLite store runs on the event loop as ``helpline serve`` runs it (``Store.bind``).

The floor's row is ``bench.floor``'s writer: the same callers, each message one INSERT into a one-table
database, with the same group commit on the loop and the same checkpointer. Set against Helpline's row, it
shows what Helpline's durable record of a message costs before any HTTP, routing or fan-out: the
conversation's message sequence taken, the message's row and its event's row written with the indexes a
conversation is read by, each message under its own savepoint in its group.

    python -m bench.writer                                                   # SQLite and the floor
    python -m bench.writer --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.writer --messages 2000 --json

PostgreSQL runs in a schema ``bench_<random>`` created and dropped here. Measured on the 2-core VM
(20,000 messages, 32 callers, PostgreSQL on the same machine): the writer before pipelining ~2,200
messages/s at ~190 µs of CPU each; pipelined, with the message's and event's rows held and written
together, ~3,000-4,400 at ~130 µs.

Exit code: 0 when every backend was measured, 2 when one could not be set up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.fixture import postgres_schema
from bench.floor import Writer as FloorWriter
from bench.procs import BenchError
from helpline.core.conversations import StartConversation, contact_message_by_hash, start_conversation
from helpline.core.model import Department, Message
from helpline.store.base import Store
from helpline.store.migrate import upgrade
from helpline.store.open import open_store
from helpline.store.unit_of_work import UnitOfWork


def _seed(conversations: int) -> Any:
    def work(uow: UnitOfWork) -> tuple[int, list[str]]:
        account = uow.accounts.create("Bench", uow.now)
        department = uow.departments.create(
            Department(0, account.id, "Support", created_at=uow.now, updated_at=uow.now)
        )
        started = [
            start_conversation(uow, StartConversation(account.id, department.id, "bench")).hash
            for _ in range(conversations)
        ]
        return account.id, started

    return work


async def _drive(store: Store, messages: int, callers: int, conversations: int) -> dict[str, float]:
    account_id, hashes = await store.write(_seed(conversations))

    def message_to(conversation: str) -> Callable[[UnitOfWork], Message]:
        return lambda uow: contact_message_by_hash(uow, account_id, conversation, "hello")

    return await _timed(messages, callers, lambda n: store.write(message_to(hashes[n % len(hashes)])))


async def _timed(messages: int, callers: int, send: Callable[[int], Awaitable[object]]) -> dict[str, float]:
    """``callers`` tasks calling ``send(i)`` for i in 0..messages-1 as fast as it answers."""
    sent = 0

    async def caller() -> None:
        nonlocal sent
        while sent < messages:
            number = sent
            sent += 1
            await send(number)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller() for _ in range(callers)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "messages": messages,
        "msg_per_s": round(messages / seconds, 1),
        "cpu_us_per_msg": round(cpu / messages * 1e6, 1),
    }


def _measure(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    upgrade(url)
    store = open_store(url, data_dir=str(data_dir))

    async def run() -> dict[str, float]:
        store.bind(asyncio.get_running_loop())  # as helpline serve does: SQLite's writer on the loop
        try:
            return await _drive(store, args.messages, args.callers, args.conversations)
        finally:
            await store.close()

    return asyncio.run(run())


def _measure_floor(data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    async def run() -> dict[str, float]:
        writer = FloorWriter(str(data_dir / "floor.db"))
        hashes = [f"conversation-{n:031d}" for n in range(args.conversations)]
        try:
            return await _timed(
                args.messages,
                args.callers,
                lambda n: writer.insert((hashes[n % len(hashes)], "hello", "text", time.time())),
            )
        finally:
            writer.close()

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writer", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--database-url", help="also measure this PostgreSQL server (a fresh schema)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="helpline-writer-") as work:
            data_dir = Path(work)
            print("[writer] the floor ...", file=sys.stderr, flush=True)
            results["floor"] = _measure_floor(data_dir, args)
            print("[writer] SQLite ...", file=sys.stderr, flush=True)
            results["sqlite"] = _measure(f"sqlite:///{data_dir / 'bench.db'}", data_dir, args)
            if args.database_url:
                print("[writer] PostgreSQL ...", file=sys.stderr, flush=True)
                with postgres_schema(args.database_url) as url:
                    results["postgresql"] = _measure(url, data_dir, args)
    except (BenchError, OSError) as problem:
        print(f"[writer] {problem}", file=sys.stderr)
        return 2
    ratio = {
        "sqlite_cpu_over_floor": round(
            results["sqlite"]["cpu_us_per_msg"] / results["floor"]["cpu_us_per_msg"], 2
        )
    }
    if "postgresql" in results:
        ratio["postgresql_over_sqlite"] = round(
            results["postgresql"]["msg_per_s"] / results["sqlite"]["msg_per_s"], 2
        )
    results["ratio"] = ratio
    if args.json:
        print(json.dumps(results))
    else:
        print(f"{'':12} {'msg/s':>10} {'CPU µs/msg':>11}")
        for name in ("floor", "sqlite", "postgresql"):
            if name in results:
                row = results[name]
                print(f"{name:12} {row['msg_per_s']:>10.0f} {row['cpu_us_per_msg']:>11.1f}")
        print(f"SQLite / floor, CPU per message: {ratio['sqlite_cpu_over_floor']:.2f}x")
        if "postgresql_over_sqlite" in ratio:
            print(f"PostgreSQL / SQLite, messages per second: {ratio['postgresql_over_sqlite']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
