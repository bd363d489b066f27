"""``python -m bench.writer``: the store's writer alone, SQLite against PostgreSQL, in one run.

``python -m bench`` measures the whole path (HTTP, the writer, the hub, the websocket); on PostgreSQL a
message's time is mostly the writer's (one thread per process sends every unit of work's statements).
This takes everything else away: ``--callers`` asyncio tasks each run a customer's message as a unit of
work through ``store.write`` (``contact_message_by_hash``, the hot path of ``python -m bench``) as fast as
the store answers, over ``--conversations`` conversations, and prints the messages per second and the
process's CPU per message (the writer's thread and the loop's) on each backend, and their ratio.

    python -m bench.writer                                                   # SQLite only
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.fixture import postgres_schema
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
    sent = 0

    def message_to(conversation: str) -> Callable[[UnitOfWork], Message]:
        return lambda uow: contact_message_by_hash(uow, account_id, conversation, "hello")

    async def caller() -> None:
        nonlocal sent
        while sent < messages:
            conversation = hashes[sent % len(hashes)]
            sent += 1
            await store.write(message_to(conversation))

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
        try:
            return await _drive(store, args.messages, args.callers, args.conversations)
        finally:
            await store.close()

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
            print("[writer] SQLite ...", file=sys.stderr, flush=True)
            results["sqlite"] = _measure(f"sqlite:///{data_dir / 'bench.db'}", data_dir, args)
            if args.database_url:
                print("[writer] PostgreSQL ...", file=sys.stderr, flush=True)
                with postgres_schema(args.database_url) as url:
                    results["postgresql"] = _measure(url, data_dir, args)
    except (BenchError, OSError) as problem:
        print(f"[writer] {problem}", file=sys.stderr)
        return 2
    if "postgresql" in results:
        results["ratio"] = {
            "postgresql_over_sqlite": round(
                results["postgresql"]["msg_per_s"] / results["sqlite"]["msg_per_s"], 2
            )
        }
    if args.json:
        print(json.dumps(results))
    else:
        print(f"{'':12} {'msg/s':>10} {'CPU µs/msg':>11}")
        for name in ("sqlite", "postgresql"):
            if name in results:
                row = results[name]
                print(f"{name:12} {row['msg_per_s']:>10.0f} {row['cpu_us_per_msg']:>11.1f}")
        if "ratio" in results:
            print(f"PostgreSQL / SQLite: {results['ratio']['postgresql_over_sqlite']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
