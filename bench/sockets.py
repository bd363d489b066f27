"""``python -m bench.sockets``: what an idle websocket costs the server, Helpline against the floor.

design.md budgets an idle websocket at about 20 KB of server memory. This opens ``--count`` websockets that
then stay silent (Helpline: agents' ``/api/agent/v1/ws``; the floor: its ``/ws``), offering
permessage-deflate as a browser does, waits for every one to
have said ``ready``, lets the server settle, and reads the server's resident memory (``VmRSS`` of
``/proc/PID/status``) before and after: the growth divided by the count is the cost of one socket. The
floor (the same uvicorn, loop and websocket implementation, a Starlette route that keeps the socket in a
dict) is measured in the same run, as the baseline of what the stack itself costs.

    python -m bench.sockets                 # 1000 sockets on each system
    python -m bench.sockets --count 3000 --json

Exit code: 0 when both systems were measured (whether or not the budget was met), 2 when a server or the
set-up failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.fixture import create_fixture, serve_command
from bench.procs import BenchError, floor_command, free_port, server

BUDGET_KB = 20.0
WARM_SOCKETS = 20  # opened and closed first, so that code run once per process is not counted per socket
SETTLE_SECONDS = 1.0


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


async def _open(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    # Offer permessage-deflate as browsers do: a server that grants it pays for zlib streams per socket.
    ws = await session.ws_connect(url, autoping=True, heartbeat=None, compress=15)
    first = await asyncio.wait_for(ws.receive(), 30)
    if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data).get("event") != "ready":
        raise BenchError(f"{url} did not start with a ready frame: {first.data!r}")
    return ws


async def _open_many(
    session: aiohttp.ClientSession, urls: list[str]
) -> list[aiohttp.ClientWebSocketResponse]:
    opened: list[aiohttp.ClientWebSocketResponse] = []
    gate = asyncio.Semaphore(50)

    async def one(url: str) -> None:
        async with gate:
            opened.append(await _open(session, url))

    await asyncio.gather(*(one(url) for url in urls))
    return opened


async def measure(pid: int, urls: list[str], count: int) -> dict[str, Any]:
    """Warm the server up, then open ``count`` sockets (cycling through ``urls``) and read its memory."""
    async with aiohttp.ClientSession() as warm:
        for ws in [await _open(warm, urls[i % len(urls)]) for i in range(WARM_SOCKETS)]:
            await ws.close()
    await asyncio.sleep(SETTLE_SECONDS)
    before = resident_kb(pid)
    began = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = await _open_many(session, [urls[i % len(urls)] for i in range(count)])
        opened_in = time.monotonic() - began
        await asyncio.sleep(SETTLE_SECONDS)
        after = resident_kb(pid)
        for ws in sockets:
            await ws.close()
    return {
        "sockets": count,
        "rss_before_kb": before,
        "rss_after_kb": after,
        "kb_per_socket": round((after - before) / count, 1),
        "opened_in_s": round(opened_in, 2),
    }


def say(text: str) -> None:
    print(f"[bench.sockets {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run_floor(workdir: Path, count: int) -> dict[str, Any]:
    port = free_port()
    with server(floor_command(port, workdir / "floor.db", "warning"), port, workdir / "floor.log") as pid:
        say(f"floor (pid {pid}): {count} idle websockets")
        urls = [f"ws://127.0.0.1:{port}/ws?conversations=c{i}" for i in range(count)]
        return asyncio.run(measure(pid, urls, count))


def run_helpline(workdir: Path, count: int, agents: int) -> dict[str, Any]:
    database_url = f"sqlite:///{workdir / 'helpline.db'}"
    say(f"creating Helpline's account and {agents} agents with the CLI")
    fixture = create_fixture(database_url, agents)
    port = free_port()
    command = serve_command(port, database_url, "warning")
    env = {**os.environ, "HELPLINE_DATA_DIR": str(workdir / "helpline")}
    with server(command, port, workdir / "helpline.log", env) as pid:
        say(f"helpline (pid {pid}): {count} idle agent websockets")
        urls = [f"ws://127.0.0.1:{port}/api/agent/v1/ws?api_key={key}" for key in fixture.agent_keys]
        return asyncio.run(measure(pid, urls, count))


def report(results: dict[str, dict[str, Any]]) -> str:
    floor, helpline = results.get("floor"), results.get("helpline")
    lines = [f"{'':28}{'floor':>10}{'helpline':>10}{'budget':>10}  result", "-" * 66]

    def cell(result: dict[str, Any] | None, key: str) -> str:
        return f"{result[key]:>10}" if result else f"{'-':>10}"

    lines.append(f"{'idle sockets':28}{cell(floor, 'sockets')}{cell(helpline, 'sockets')}")
    lines.append(
        f"{'server RSS before (KB)':28}{cell(floor, 'rss_before_kb')}{cell(helpline, 'rss_before_kb')}"
    )
    lines.append(f"{'server RSS after (KB)':28}{cell(floor, 'rss_after_kb')}{cell(helpline, 'rss_after_kb')}")
    verdict = ""
    if helpline:
        verdict = "PASS" if helpline["kb_per_socket"] <= BUDGET_KB else "MISS"
    lines.append(
        f"{'KB per idle socket':28}{cell(floor, 'kb_per_socket')}{cell(helpline, 'kb_per_socket')}"
        f"{'<= ' + format(BUDGET_KB, 'g'):>10}  {verdict}"
    )
    if floor and helpline and floor["kb_per_socket"] > 0:
        ratio = helpline["kb_per_socket"] / floor["kb_per_socket"]
        lines.append(f"{'  helpline / floor':28}{'':10}{ratio:>10.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sockets", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="idle websockets per system (default 1000)")
    parser.add_argument("--agents", type=int, default=5, help="Helpline agents the sockets belong to")
    parser.add_argument("--only", choices=["floor", "helpline"], help="measure one system only")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="helpline-bench-sockets-") as directory:
            workdir = Path(directory)
            if args.only != "helpline":
                results["floor"] = run_floor(workdir, args.count)
            if args.only != "floor":
                results["helpline"] = run_helpline(workdir, args.count, args.agents)
    except BenchError as problem:
        print(f"bench.sockets: {problem}", file=sys.stderr)
        return 2
    with contextlib.suppress(BrokenPipeError):
        print(json.dumps(results) if args.json else report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
