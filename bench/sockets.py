"""``python -m bench.sockets``: what an idle websocket costs the server, and what idle sockets cost an event.

design.md budgets an idle websocket at about 20 KB of server memory. This opens ``--count`` websockets
that then stay idle, waits for every one to have said it is ready, lets the server settle, and reads the
server's resident memory (``VmRSS`` of ``/proc/PID/status``) before and after: the growth divided by the
count is the cost of one socket. Three kinds are measured, each on a server of its own:

- the floor's ``/ws`` (``bench/floor.py``: the same uvicorn, loop and websocket protocol, a Starlette
  route keeping the socket in a dict): what the stack itself costs;
- Helpline's agent socket ``/api/agent/v1/ws`` (agents of the department that the probe's conversation
  is in, so that they are filed where its events look);
- Helpline's SDK socket ``/ws`` (the Novatalks SDK's, which the web widget uses), opened as the widget
  opens it: from an allowed page ``Origin``, subscribed with a contact's pubsub token, answering the
  server's ``presence.update`` with ``update_presence``. ``--contacts`` contacts are created first (the
  server runs with its SDK rate limits lifted for that); the sockets take them in turn, as a contact's
  several tabs and devices would.

Every client socket is read while it is open (pings answered), so none is dropped for silence; a socket
the server closed during the run is counted and reported.

The fan-out: before opening the idle sockets and again with them open, one agent (not one of the idle
sockets' agents) is sent ``--events`` messages in a conversation assigned to it, one at a time (POST,
then its frame on that agent's socket), and the server's CPU time (``utime + stime``) and the wall time
per message are taken. Idle sockets should cost those events nothing. Then the server's CPU while nothing
happens is read for a few seconds: what the open sockets cost on their own (uvicorn pings every socket
every 20 s; the SDK socket says ``presence.update`` every 30 s).

    python -m bench.sockets                      # 1000 sockets of each kind (about a minute)
    python -m bench.sockets --count 10000        # the open-file limit is raised for it (see --help)
    python -m bench.sockets --only agent --json

The bench raises its own soft limit on open files to the hard limit (servers it starts inherit it;
``helpline serve`` raises its own too) and stops with a message when ``--count`` does not fit under it
(raise the hard limit, e.g. ``ulimit -Hn``, then). Helpline's connection cap derives from that limit
(``web/connections.py``: the limit less a tenth) and is far above 10,000 sockets at the usual 20,000+.

Exit code: 0 when everything asked for was measured (whether or not the budget was met), 2 when a server
or the set-up failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.fixture import HelplineFixture, create_fixture, create_sdk_inbox, serve_command
from bench.procs import BenchError, answered_json, floor_command, free_port, server

BUDGET_KB = 20.0
WARM_SOCKETS = 20  # opened and closed first, so that code run once per process is not counted per socket
SETTLE_SECONDS = 1.0
IDLE_CPU_SECONDS = 35.0  # more than a keepalive period of either kind (uvicorn's 20 s, the SDK's 30 s)
PARALLEL = 50  # handshakes in flight at once
ORIGIN = "https://shop.bench.test"  # the page the SDK sockets say they come from (allowed for the inbox)
KINDS = ("floor", "agent", "sdk")


def say(text: str) -> None:
    print(f"[bench.sockets {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, all its threads, in nanoseconds' resolution (``schedstat``; the
    clock ticks of ``/proc/PID/stat`` are 10 ms, too coarse for a second's worth of messages)."""
    spent = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            spent += int((task / "schedstat").read_text().split()[0])
    return spent / 1e9


def raise_file_limit(count: int) -> int:
    """Raise this process's soft open-file limit to the hard one (the servers started from here inherit
    it); fail when ``count`` sockets, with room to spare, do not fit under it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    elif hard == resource.RLIM_INFINITY:
        soft = max(soft, count * 2 + 1024)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    # The server keeps a tenth of its limit (at least 128 files) out of its connection cap.
    needed = count + max(128, soft // 10) + 256
    if soft < needed:
        raise BenchError(
            f"{count} sockets need an open-file limit of about {needed} (this one is {soft}, hard limit "
            f"{hard}): raise the hard limit (ulimit -Hn, or LimitNOFILE for a service) or lower --count"
        )
    return soft


# -- the client's sockets --------------------------------------------------------------------------------


@dataclass
class Kind:
    """How to open one kind of socket: its URL, the page it comes from, what it sends first, and the
    event its first frame must be."""

    name: str
    url: Callable[[int], str]
    ready_event: str
    origin: str | None = None
    subscribe: Callable[[int], str] | None = None
    answers_presence: bool = False


@dataclass
class Client:
    """The open sockets and the tasks reading them."""

    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    closing: bool = False

    async def keep(self, ws: aiohttp.ClientWebSocketResponse, kind: Kind) -> None:
        """Read the socket while it is open: aiohttp answers pings in ``receive``, and the SDK socket's
        presence.update is answered as the widget does."""
        async for message in ws:
            if (
                kind.answers_presence
                and message.type == aiohttp.WSMsgType.TEXT
                and '"presence.update"' in message.data
            ):
                await ws.send_str('{"event":"update_presence"}')
        if not self.closing:
            self.dropped.append(f"{kind.name} socket closed by the server: {ws.close_code}")

    async def open(self, session: aiohttp.ClientSession, kind: Kind, index: int) -> None:
        headers = {"Origin": kind.origin} if kind.origin else None
        # Offer permessage-deflate as browsers do: a server that grants it pays for zlib streams per socket.
        ws = await session.ws_connect(
            kind.url(index), autoping=True, heartbeat=None, compress=15, headers=headers
        )
        if kind.subscribe is not None:
            await ws.send_str(kind.subscribe(index))
        first = await asyncio.wait_for(ws.receive(), 60)
        if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data).get("event") != kind.ready_event:
            raise BenchError(
                f"{kind.name} socket {index} did not start with {kind.ready_event}: {first.data!r}"
            )
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self.keep(ws, kind)))

    async def open_many(self, session: aiohttp.ClientSession, kind: Kind, count: int) -> None:
        """``count`` sockets, ``PARALLEL`` handshakes at a time, with progress on stderr."""
        gate = asyncio.Semaphore(PARALLEL)
        step = max(1000, count // 10)

        async def one(index: int) -> None:
            async with gate:
                await self.open(session, kind, index)
            if len(self.sockets) % step == 0:
                say(f"  {len(self.sockets)} of {count} {kind.name} sockets open")

        await asyncio.gather(*(one(index) for index in range(count)))

    async def close(self) -> None:
        self.closing = True
        for ws in self.sockets:
            await ws.close()
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def open_idle(
    pid: int, session: aiohttp.ClientSession, kind: Kind, count: int
) -> tuple[Client, dict[str, Any]]:
    """Warm the server up, then open ``count`` idle sockets and read its memory before and after."""
    warm = Client()
    for index in range(WARM_SOCKETS):
        await warm.open(session, kind, index)
    await warm.close()
    await asyncio.sleep(SETTLE_SECONDS)
    before = resident_kb(pid)
    began = time.monotonic()
    client = Client()
    await client.open_many(session, kind, count)
    opened_in = time.monotonic() - began
    await asyncio.sleep(SETTLE_SECONDS)
    after = resident_kb(pid)
    return client, {
        "sockets": count,
        "rss_before_kb": before,
        "rss_after_kb": after,
        "kb_per_socket": round((after - before) / count, 1),
        "opened_in_s": round(opened_in, 2),
    }


# -- the fan-out probe: one agent's conversation -----------------------------------------------------------


class Probe:
    """An agent (online, socket open) with a conversation assigned to it, and its messages' frames."""

    def __init__(self, session: aiohttp.ClientSession, base: str, fixture: HelplineFixture, key: str) -> None:
        self.session = session
        self.base = base
        self.fixture = fixture
        self.auth = {"Authorization": f"Bearer {key}"}
        self.key = key
        self.waiting: dict[str, asyncio.Future[None]] = {}
        self.ids = itertools.count()
        self.messages_url = ""
        self.client = Client()

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        return await answered_json(self.session, method, url, **kwargs)

    async def start(self) -> None:
        await self._json(
            "PUT", f"{self.base}/api/agent/v1/presence", json={"status": "online"}, headers=self.auth
        )
        ws_base = "ws" + self.base[len("http") :]
        ws = await self.session.ws_connect(f"{ws_base}/api/agent/v1/ws?api_key={self.key}", heartbeat=None)
        first = await asyncio.wait_for(ws.receive(), 30)
        if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data).get("event") != "ready":
            raise BenchError(f"the probe agent's socket did not start with ready: {first.data!r}")
        self.client.sockets.append(ws)
        self.client.readers.append(asyncio.create_task(self._read(ws)))
        started = await self._json(
            "POST",
            f"{self.base}/api/v1/interactions",
            json={"token": self.fixture.token, "department_id": self.fixture.department_id},
        )
        digest = started["data"]["interaction_hash"]
        await self._json("POST", f"{self.base}/api/agent/v1/conversations/{digest}/accept", headers=self.auth)
        self.messages_url = f"{self.base}/api/v1/interactions/{digest}/messages"

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame.get("event") == "message.created":
                content = (frame.get("data", {}).get("message") or {}).get("content")
                waiting = self.waiting.pop(content, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)

    async def send(self) -> None:
        content = f"fan-out {next(self.ids)}"
        arrived = self.waiting[content] = asyncio.get_running_loop().create_future()
        body = {"token": self.fixture.token, "content": content, "type": "text"}
        async with self.session.post(self.messages_url, json=body) as response:
            if response.status != 200:
                raise BenchError(
                    f"POST {self.messages_url} answered {response.status}: {await response.text()}"
                )
            await response.read()
        await asyncio.wait_for(arrived, 10)

    async def measure(self, pid: int, events: int) -> dict[str, Any]:
        """``events`` messages, one at a time: the server's CPU and the wall time per message."""
        for _ in range(min(20, events)):  # warm-up
            await self.send()
        cpu, began = cpu_seconds(pid), time.perf_counter()
        for _ in range(events):
            await self.send()
        wall, spent = time.perf_counter() - began, cpu_seconds(pid) - cpu
        return {
            "events": events,
            "server_cpu_us_per_event": round(spent / events * 1e6, 1),
            "wall_ms_per_event": round(wall / events * 1e3, 3),
        }


async def idle_cpu_pct(pid: int, seconds: float) -> float:
    cpu = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return round((cpu_seconds(pid) - cpu) / seconds * 100, 2)


# -- the systems -----------------------------------------------------------------------------------------


def run_floor(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    count = args.count
    port = free_port()
    with server(floor_command(port, workdir / "floor.db", "warning"), port, workdir / "floor.log") as pid:
        say(f"floor (pid {pid}): {count} idle websockets")
        kind = Kind("floor", lambda i: f"ws://127.0.0.1:{port}/ws?conversations=c{i}", "ready")

        async def run() -> dict[str, Any]:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                client, result = await open_idle(pid, session, kind, count)
                result["idle_cpu_pct"] = await idle_cpu_pct(pid, args.idle_seconds)
                result["dropped"] = len(client.dropped)
                await client.close()
                return result

        return asyncio.run(run())


async def _contacts(session: aiohttp.ClientSession, base: str, identifier: str, count: int) -> list[str]:
    """``count`` contacts of the inbox, each with a conversation, created as the widget does; their
    pubsub tokens."""
    gate = asyncio.Semaphore(20)
    tokens: list[str] = []

    async def one(index: int) -> None:
        async with (
            gate,
            session.post(
                f"{base}/api/v1/sdk/conversations?inbox={identifier}",
                json={"name": f"Visitor {index}"},
                headers={"Origin": ORIGIN},
            ) as response,
        ):
            text = await response.text()
            if response.status != 200:
                raise BenchError(f"creating SDK contact {index} answered {response.status}: {text[:300]}")
            tokens.append(json.loads(text)["payload"]["contactInbox"]["pubsubToken"])
        if len(tokens) % 1000 == 0:
            say(f"  {len(tokens)} of {count} contacts created")

    await asyncio.gather(*(one(index) for index in range(count)))
    return tokens


def run_helpline(workdir: Path, which: str, args: argparse.Namespace) -> dict[str, Any]:
    count, agents, events = args.count, args.agents, args.events
    contacts = args.contacts or min(count, 2000)
    database_url = f"sqlite:///{workdir / f'helpline-{which}.db'}"
    say(f"creating Helpline's account, {agents} agents and the probe's agent with the CLI")
    fixture = create_fixture(database_url, agents + 1)
    identifier = ""
    if which == "sdk":
        identifier = create_sdk_inbox(database_url, fixture.account_id, ORIGIN)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HELPLINE_DATA_DIR": str(workdir / f"helpline-{which}"),
        # Only so that the contacts are created quickly: the limits guard against abuse, not load.
        "HELPLINE_SDK_CONVERSATIONS_PER_ADDRESS": "1000000000",
        "HELPLINE_SDK_CONVERSATIONS_PER_INBOX": "1000000000",
    }
    with server(
        serve_command(port, database_url, "warning"), port, workdir / f"helpline-{which}.log", env
    ) as pid:

        async def run() -> dict[str, Any]:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                probe = Probe(session, base, fixture, fixture.agent_keys[0])
                await probe.start()
                say(f"helpline (pid {pid}): fan-out to one agent, {events} messages, no idle socket")
                alone = await probe.measure(pid, events)
                if which == "agent":
                    keys = fixture.agent_keys[1:]
                    kind = Kind(
                        "agent", lambda i: f"ws://127.0.0.1:{port}/api/agent/v1/ws?api_key={keys[i % len(keys)]}",
                        "ready",
                    )  # fmt: skip
                else:
                    say(f"helpline (pid {pid}): creating {contacts} SDK contacts")
                    tokens = await _contacts(session, base, identifier, contacts)
                    account = fixture.account_id

                    def subscribe(i: int) -> str:
                        token = tokens[i % len(tokens)]
                        return json.dumps(
                            {"event": "subscribe", "data": {"pubsub_token": token, "account_id": account}}
                        )

                    kind = Kind(
                        "sdk", lambda i: f"ws://127.0.0.1:{port}/ws?inbox={identifier}", "confirm_subscription",
                        origin=ORIGIN, subscribe=subscribe, answers_presence=True,
                    )  # fmt: skip
                say(f"helpline (pid {pid}): {count} idle {which} websockets")
                client, result = await open_idle(pid, session, kind, count)
                say(f"helpline (pid {pid}): fan-out to one agent, {events} messages, {count} idle sockets")
                result["fanout_alone"] = alone
                result["fanout_with_idle"] = await probe.measure(pid, events)
                result["idle_cpu_pct"] = await idle_cpu_pct(pid, args.idle_seconds)
                result["dropped"] = len(client.dropped)
                await client.close()
                await probe.client.close()
                return result

        return asyncio.run(run())


# -- the report ------------------------------------------------------------------------------------------


def report(results: dict[str, dict[str, Any]]) -> str:
    columns = [(name, results.get(name)) for name in ("floor", "helpline", "helpline_sdk")]
    titles = {"floor": "floor", "helpline": "agent", "helpline_sdk": "SDK"}
    lines = [
        f"{'':34}" + "".join(f"{titles[name]:>10}" for name, _ in columns) + f"{'budget':>10}  result",
        "-" * 96,
    ]

    def cell(result: dict[str, Any] | None, *path: str) -> str:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return f"{value:>10}" if value is not None else f"{'-':>10}"

    def row(label: str, *path: str, tail: str = "") -> None:
        lines.append(f"{label:34}" + "".join(cell(result, *path) for _, result in columns) + tail)

    row("idle sockets", "sockets")
    row("server RSS before (KB)", "rss_before_kb")
    row("server RSS after (KB)", "rss_after_kb")
    verdicts = [
        "PASS" if result["kb_per_socket"] <= BUDGET_KB else "MISS"
        for name, result in columns
        if name != "floor" and result
    ]
    verdict = ("MISS" if "MISS" in verdicts else "PASS") if verdicts else ""
    row("KB per idle socket", "kb_per_socket", tail=f"{'<= ' + format(BUDGET_KB, 'g'):>10}  {verdict}")
    row("sockets the server dropped", "dropped")
    row("server CPU, sockets idle (%)", "idle_cpu_pct")
    row("fan-out: CPU us/event, no idle", "fanout_alone", "server_cpu_us_per_event")
    row("fan-out: CPU us/event, idle open", "fanout_with_idle", "server_cpu_us_per_event")
    row("fan-out: wall ms/event, no idle", "fanout_alone", "wall_ms_per_event")
    row("fan-out: wall ms/event, idle open", "fanout_with_idle", "wall_ms_per_event")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sockets", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="idle websockets of each kind (default 1000)")
    parser.add_argument(
        "--agents", type=int, default=5, help="Helpline agents the idle agent sockets belong to"
    )
    parser.add_argument(
        "--contacts",
        type=int,
        default=0,
        help="SDK contacts the idle SDK sockets belong to (default: --count, at most 2000)",
    )
    parser.add_argument(
        "--events", type=int, default=1000, help="messages per fan-out measurement (default 1000)"
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=IDLE_CPU_SECONDS,
        help=f"how long the server's CPU is read with the sockets idle (default {IDLE_CPU_SECONDS:g})",
    )
    parser.add_argument("--only", choices=KINDS, action="append", help="measure this kind only (repeatable)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    kinds = args.only or list(KINDS)
    results: dict[str, dict[str, Any]] = {}
    try:
        limit = raise_file_limit(args.count)
        say(f"open-file limit {limit}")
        with tempfile.TemporaryDirectory(prefix="helpline-bench-sockets-") as directory:
            workdir = Path(directory)
            if "floor" in kinds:
                results["floor"] = run_floor(workdir, args)
            if "agent" in kinds:
                results["helpline"] = run_helpline(workdir, "agent", args)
            if "sdk" in kinds:
                results["helpline_sdk"] = run_helpline(workdir, "sdk", args)
    except BenchError as problem:
        print(f"bench.sockets: {problem}", file=sys.stderr)
        return 2
    with contextlib.suppress(BrokenPipeError):
        print(json.dumps(results) if args.json else report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
