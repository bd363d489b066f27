"""The load generator: one process, aiohttp client, agents' websockets open, two phases.

    python -m bench.load CONFIG.json      (prints one JSON object: the measurements)

CONFIG names the system (``floor`` or ``helpline``), its base URL, the server's PID (for its CPU time),
and for Helpline the customer token and the agents' API keys. The generator

1. sets up ``interactions`` conversations spread over ``agents`` agents, each agent holding one websocket
   (Helpline: agents go online, customers start interactions, agent ``i % agents`` accepts interaction i);
2. **max**: runs ``concurrency`` closed-loop senders for ``warmup + duration`` seconds; each sends a message
   with a unique content, waits for the 200 *and* for the frame carrying that content on the assigned
   agent's socket, then sends the next one. Messages completed inside the ``duration`` window / duration
   is the maximum throughput;
3. **half**: sends open loop at ``half_fraction`` (0.5) of that maximum for ``duration`` seconds, on a
   fixed schedule that does not wait for answers, and records end-to-end latency from each message's
   scheduled send time (so a stall cannot hide its own delay) to the arrival of its frame.

A frame that has not arrived ``frame_timeout`` seconds after its 200 counts as lost.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec

from bench.procs import answered_json

now = time.perf_counter
MAX_IN_FLIGHT = 20_000  # open loop: past this many unanswered messages the phase stops (client overload)
ERROR_SAMPLES = 5
CLIENT_BOUND_PCT = 90.0  # a generator using this much of a core may be what limits the phase
# The open loop never sleeps less than this. uvloop rounds a timer to whole milliseconds
# (``round(delay * 1000)``), so a sleep under 0.5 ms is a ``call_soon``: at a few thousand messages a
# second (one due every 0.25 ms) the generator spun through its loop and used a whole core, which on a
# 2-core machine it took from the server. Sleeping at least a tick and then sending every message that
# is due keeps the schedule: latency runs from each message's *scheduled* time, so the up to one tick a
# message waits in the generator is counted against the server, never hidden.
SEND_TICK_S = 0.001
SLOW_KEPT = 200  # the half phase's slowest messages, with their times, for the server's lag profile


# -- frames: decode only what the generator needs ------------------------------------------------------


class _Data(msgspec.Struct):
    message: Any = None


class _Frame(msgspec.Struct):
    event: str = ""
    data: _Data | None = None


_decode_frame = msgspec.json.Decoder(_Frame).decode


def frame_content(text: str) -> str | None:
    """The message content of a ``message.created`` frame, else None."""
    if "message.created" not in text:
        return None
    try:
        frame = _decode_frame(text)
    except msgspec.DecodeError:
        return None
    if frame.event != "message.created" or frame.data is None or not isinstance(frame.data.message, dict):
        return None
    content = frame.data.message.get("content")
    return content if isinstance(content, str) else None


# -- statistics ------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | None]:
    """Nearest-rank percentiles in milliseconds."""
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)
    n = len(ordered)

    def rank(p: float) -> float:
        return round(ordered[max(0, min(n - 1, int(p * n + 0.999999) - 1))] * 1000, 3)

    return {
        "count": n,
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "max": round(ordered[-1] * 1000, 3),
        "mean": round(sum(ordered) / n * 1000, 3),
    }


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process and all its threads (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float, float] | None:
    """CPU seconds the machine spent (in tasks, in interrupts, stolen) since boot, from /proc/stat; None
    elsewhere.

    Interrupt time (mostly the loopback network's softirqs) is kept apart: the kernel does not charge it to
    the processes whose packets it carries, so it must not count as "other processes". Steal is the time a
    virtual machine's CPUs were ready to run but the host ran something else: a phase with steal ran on a
    slower machine than the phase before it.
    """
    try:
        with open("/proc/stat") as handle:
            ticks = [int(v) for v in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, *rest = ticks
    steal = rest[0] if rest else 0
    return (user + nice + system) / hz, (irq + softirq) / hz, steal / hz


def machine_busy_seconds() -> float | None:
    """CPU seconds all tasks of the machine spent busy (interrupts excluded)."""
    found = machine_cpu_seconds()
    return None if found is None else found[0]


def processes_cpu_seconds(name: str) -> dict[int, float]:
    """CPU seconds of every process called ``name`` (e.g. PostgreSQL's ``postgres``), by PID."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm") as handle:
                if handle.read().strip() != name:
                    continue
        except OSError:
            continue
        seconds = process_cpu_seconds(int(entry.name))
        if seconds is not None:
            found[int(entry.name)] = seconds
    return found


class CpuMeter:
    """CPU use over a phase, in % of one core: the server, this generator, the database server (when it is
    PostgreSQL on this machine), everything else, interrupts."""

    def __init__(self, server_pid: int | None, database: str | None = None) -> None:
        self.server_pid = server_pid
        self.database = database
        self.wall = now()
        self.client = time.process_time()
        self.server = process_cpu_seconds(server_pid) if server_pid else None
        self.db = processes_cpu_seconds(database) if database else {}
        self.machine = machine_cpu_seconds()

    def read(self) -> dict[str, Any]:
        wall = max(now() - self.wall, 1e-9)
        server_end = process_cpu_seconds(self.server_pid) if self.server_pid else None
        machine_end = machine_cpu_seconds()
        db_s = None
        if self.database:
            # Backends that started during the phase count whole; those that ended are missed.
            db_end = processes_cpu_seconds(self.database)
            db_s = sum(cpu - self.db.get(pid, 0.0) for pid, cpu in db_end.items())
        server_s = others = irq = steal = None
        client_s = time.process_time() - self.client
        client = client_s / wall * 100
        if self.server is not None and server_end is not None:
            server_s = server_end - self.server
        server = None if server_s is None else server_s / wall * 100
        db = None if db_s is None else db_s / wall * 100
        if self.machine is not None and machine_end is not None:
            irq = (machine_end[1] - self.machine[1]) / wall * 100
            steal = (machine_end[2] - self.machine[2]) / wall * 100
            if server is not None:
                others = max(
                    0.0, (machine_end[0] - self.machine[0]) / wall * 100 - server - client - (db or 0)
                )
        return {
            "database_cpu_pct": None if db is None else round(db, 1),
            "server_cpu_pct": None if server is None else round(server, 1),
            "client_cpu_pct": round(client, 1),
            "client_bound": client >= CLIENT_BOUND_PCT,
            "other_cpu_pct": None if others is None else round(others, 1),
            "irq_cpu_pct": None if irq is None else round(irq, 1),
            "steal_cpu_pct": None if steal is None else round(steal, 1),
            "cpu_s": {
                "server": None if server_s is None else round(server_s, 3),
                "database": None if db_s is None else round(db_s, 3),
                "client": round(client_s, 3),
                "wall": round(wall, 3),
            },
        }


def per_message_us(cpu_s: dict[str, Any], completed: int) -> dict[str, float | None]:
    """CPU microseconds per completed message: the server process, the database's processes, both."""
    if not completed:
        return {"server": None, "database": None, "total": None}
    server, database = cpu_s.get("server"), cpu_s.get("database")

    def us(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / completed * 1e6, 1)

    return {
        "server": us(server),
        "database": us(database),
        "total": None if server is None else us(server + (database or 0.0)),
    }


# -- the run -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Conversation:
    hash: str
    agent: int
    url: str


class FrameLost(Exception):
    """The frame of a message did not arrive within the frame timeout after its 200."""


@dataclass(slots=True)
class Pending:
    agent: int
    future: asyncio.Future[float]


@dataclass(slots=True)
class Outcome:
    ok: bool
    e2e: float = 0.0  # scheduled/actual send -> frame on the assigned agent's socket
    post: float = 0.0  # same start -> HTTP answer read
    done: float = 0.0  # when both the answer and the frame were in


@dataclass
class Counters:
    http_errors: int = 0
    lost_frames: int = 0
    matched: int = 0
    elsewhere: int = 0
    duplicates: int = 0
    late: int = 0
    unknown: int = 0
    other_frames: int = 0
    samples: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(text[:300])


class Bench:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.system: str = config["system"]
        self.base = config["base_url"].rstrip("/")
        self.ws_base = "ws" + self.base[len("http") :]
        self.token: str | None = config.get("token")
        self.frame_timeout = float(config.get("frame_timeout", 5.0))
        self.pending: dict[str, Pending] = {}
        self.counters = Counters()
        self.ids = itertools.count()
        self.prefix = f"b{os.getpid()}"
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.readers: list[asyncio.Task[None]] = []
        self.conversations: list[Conversation] = []
        self.socket_errors: list[str] = []
        self.in_flight = 0
        # (deadline, future) of messages answered and waiting for their frame, in deadline order: one
        # watchdog expires them, cheaper than a timer per message (the client's CPU is the floor's limit).
        self.deadlines: collections.deque[tuple[float, asyncio.Future[float]]] = collections.deque()
        self.session: aiohttp.ClientSession

    # -- set-up ---------------------------------------------------------------------------------------------

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        return await answered_json(self.session, method, url, **kwargs)

    async def _open_socket(self, index: int, url: str) -> None:
        ws = await self.session.ws_connect(url, autoping=True, heartbeat=None, max_msg_size=1 << 22)
        first = await asyncio.wait_for(ws.receive(), 10)
        if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data).get("event") != "ready":
            raise RuntimeError(f"agent {index}'s websocket did not start with a ready frame: {first.data!r}")
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self._read(index, ws)))

    async def setup(self) -> None:
        n, m = int(self.config["interactions"]), int(self.config["agents"])
        if self.system == "floor":
            for agent in range(m):
                hashes = [f"c{i}" for i in range(n) if i % m == agent]
                await self._open_socket(agent, f"{self.ws_base}/ws?conversations={','.join(hashes)}")
            self.conversations = [
                Conversation(f"c{i}", i % m, f"{self.base}/interactions/c{i}/messages") for i in range(n)
            ]
            return
        keys: list[str] = self.config["agent_keys"][:m]
        if len(keys) < m:
            raise RuntimeError(f"{m} agents wanted, {len(keys)} API keys given")
        # Several processes (python -m bench --nodes): agent j's socket is on node j, and its conversations'
        # messages are posted through the next node, so that every frame crosses from one process to another.
        nodes = [url.rstrip("/") for url in self.config.get("node_urls") or [self.base]]
        for agent, key in enumerate(keys):
            headers = {"Authorization": f"Bearer {key}"}
            await self._json(
                "PUT", f"{self.base}/api/agent/v1/presence", json={"status": "online"}, headers=headers
            )
            ws_base = "ws" + nodes[agent % len(nodes)][len("http") :]
            await self._open_socket(agent, f"{ws_base}/api/agent/v1/ws?api_key={key}")
        for i in range(n):
            started = await self._json(
                "POST",
                f"{self.base}/api/v1/interactions",
                json={"token": self.token, "department_id": int(self.config.get("department_id", 1))},
            )
            digest = started["data"]["interaction_hash"]
            agent = i % m
            await self._json(
                "POST",
                f"{self.base}/api/agent/v1/conversations/{digest}/accept",
                headers={"Authorization": f"Bearer {keys[agent]}"},
            )
            poster = nodes[(agent + 1) % len(nodes)]
            self.conversations.append(
                Conversation(digest, agent, f"{poster}/api/v1/interactions/{digest}/messages")
            )

    async def _read(self, index: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        counters, pending = self.counters, self.pending
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            arrived = now()
            content = frame_content(message.data)
            if content is None:
                counters.other_frames += 1
                continue
            waiting = pending.get(content)
            if waiting is None:
                counters.unknown += 1
            elif waiting.agent != index:
                counters.elsewhere += 1
            elif waiting.future.done():
                if waiting.future.exception() is None:
                    counters.duplicates += 1
                else:
                    counters.late += 1  # already counted lost: it came after the frame timeout
            else:
                counters.matched += 1
                waiting.future.set_result(arrived)
        if not self.closing:
            self.socket_errors.append(f"agent {index}'s websocket closed: {ws.close_code} {ws.exception()!r}")

    closing = False

    async def _watchdog(self) -> None:
        deadlines = self.deadlines
        while True:
            await asyncio.sleep(0.1)
            current = now()
            while deadlines and deadlines[0][0] <= current:
                _, future = deadlines.popleft()
                if not future.done():
                    future.set_exception(FrameLost())

    # -- one message ----------------------------------------------------------------------------------------

    async def send(self, conversation: Conversation, start: float | None = None) -> Outcome:
        self.in_flight += 1
        try:
            return await self._send(conversation, start)
        finally:
            self.in_flight -= 1

    async def _send(self, conversation: Conversation, start: float | None) -> Outcome:
        content = f"{self.prefix}-{next(self.ids)}"
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[content] = Pending(conversation.agent, future)
        body = msgspec.json.encode({"token": self.token or "floor", "content": content, "type": "text"})
        begin = now() if start is None else start
        try:
            async with self.session.post(
                conversation.url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                status = response.status
                answer = await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as problem:
            self.counters.http_errors += 1
            self.counters.error(f"POST {conversation.url}: {problem!r}")
            del self.pending[content]
            return Outcome(False)
        answered = now()
        if status != 200 or b"Message created successfully" not in answer:
            self.counters.http_errors += 1
            self.counters.error(f"POST {conversation.url} answered {status}: {answer[:200]!r}")
            del self.pending[content]
            return Outcome(False)
        try:
            if future.done():
                arrived = future.result()
            else:
                self.deadlines.append((answered + self.frame_timeout, future))
                arrived = await future
        except FrameLost:
            self.counters.lost_frames += 1
            self.counters.error(f"no frame for {content} within {self.frame_timeout} s of its 200")
            return Outcome(False)
        return Outcome(True, arrived - begin, answered - begin, max(answered, arrived))

    # -- phases ---------------------------------------------------------------------------------------------

    def _mark(self) -> tuple[int, int]:
        return self.counters.http_errors, self.counters.lost_frames

    def _since(self, mark: tuple[int, int]) -> dict[str, int]:
        return {
            "http_errors": self.counters.http_errors - mark[0],
            "lost_frames": self.counters.lost_frames - mark[1],
        }

    async def closed_loop(self, concurrency: int, warmup: float, duration: float) -> dict[str, Any]:
        mark = self._mark()
        cycle = itertools.cycle(self.conversations)
        begin = now()
        window_start, window_end = begin + warmup, begin + warmup + duration
        e2e: list[float] = []
        post: list[float] = []
        completed = 0
        cpu: CpuMeter | None = None

        async def sender() -> None:
            nonlocal completed
            while now() < window_end:
                outcome = await self.send(next(cycle))
                if outcome.ok and window_start <= outcome.done <= window_end:
                    completed += 1
                    e2e.append(outcome.e2e)
                    post.append(outcome.post)

        async def meter() -> None:
            nonlocal cpu
            await asyncio.sleep(max(0.0, window_start - now()))
            cpu = CpuMeter(self.config.get("server_pid"), self.config.get("database_process"))
            await asyncio.sleep(max(0.0, window_end - now()))
            usage.update(cpu.read())

        usage: dict[str, Any] = {}
        await asyncio.gather(meter(), *(sender() for _ in range(concurrency)))
        return {
            "concurrency": concurrency,
            "warmup_s": warmup,
            "duration_s": duration,
            "completed": completed,
            "msg_per_s": round(completed / duration, 1),
            "cpu_us_per_msg": per_message_us(usage.get("cpu_s") or {}, completed),
            "e2e_ms": percentiles(e2e),
            "post_ms": percentiles(post),
            **usage,
            **self._since(mark),
        }

    async def open_loop(self, rate: float, duration: float) -> dict[str, Any]:
        mark = self._mark()
        cycle = itertools.cycle(self.conversations)
        total = max(1, int(rate * duration))
        interval = 1.0 / rate
        tick = float(self.config.get("send_tick_s", SEND_TICK_S))
        # Each message's outcome goes into its slot as it completes. Not ``gather`` over all the tasks at the
        # end: that walks tens of thousands of tasks in one turn of the generator's loop, right while the
        # last messages' frames arrive (measured: the phase's last ~30 ms of messages came out 30 ms late).
        outcomes: list[Outcome | None] = []
        unfinished = 0
        finished = asyncio.Event()

        async def one(slot: int, conversation: Conversation, due: float) -> None:
            nonlocal unfinished
            try:
                outcomes[slot] = await self.send(conversation, start=due)
            finally:
                unfinished -= 1
                if unfinished == 0 and sending_done:
                    finished.set()

        sending_done = False
        tasks: set[asyncio.Task[None]] = set()
        lags: list[float] = []
        overloaded = False
        cpu = CpuMeter(self.config.get("server_pid"), self.config.get("database_process"))
        begin = now() + 0.01
        epoch = time.time() - now()  # perf_counter -> wall clock, to line slow messages up with the server
        sent = 0
        while sent < total:
            due = begin + sent * interval
            wait = due - now()
            if wait > 0:
                await asyncio.sleep(max(wait, tick))
            current = now()
            while sent < total and begin + sent * interval <= current:
                due = begin + sent * interval
                lags.append(current - due)
                outcomes.append(None)
                unfinished += 1
                task = asyncio.create_task(one(sent, next(cycle), due))
                tasks.add(task)  # a strong reference until it is done
                task.add_done_callback(tasks.discard)
                sent += 1
            if self.in_flight > MAX_IN_FLIGHT:
                overloaded = True
                break
        send_end = now()
        usage = cpu.read()
        sending_done = True
        if unfinished:
            await finished.wait()
        good = [o for o in outcomes if o is not None and o.ok]
        slowest = sorted(
            ((o.e2e, i) for i, o in enumerate(outcomes) if o is not None and o.ok), reverse=True
        )[:SLOW_KEPT]
        return {
            "target_rate": round(rate, 1),
            "duration_s": duration,
            "send_tick_ms": tick * 1000,
            "sent": sent,
            "completed": len(good),
            "sent_per_s": round(sent / max(send_end - begin, 1e-9), 1),
            "started_at": round(epoch + begin, 4),
            "ended_at": round(epoch + send_end, 4),
            "e2e_ms": percentiles([o.e2e for o in good]),
            "post_ms": percentiles([o.post for o in good]),
            "send_lag_ms": percentiles(lags),
            # (scheduled wall-clock time, e2e ms) of the slowest messages: which server stalls they met
            "slowest": [(round(epoch + begin + i * interval, 4), round(e2e * 1000, 2)) for e2e, i in slowest],
            "client_overloaded": overloaded,
            **usage,
            **self._since(mark),
        }

    # -- whole run ------------------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        config = self.config
        connector = aiohttp.TCPConnector(limit=max(int(config["concurrency"]), 64), force_close=False)
        timeout = aiohttp.ClientTimeout(total=30)
        result: dict[str, Any] = {"system": self.system}
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            self.session = session
            started = now()
            await self.setup()
            result["setup_s"] = round(now() - started, 2)
            watchdog = asyncio.create_task(self._watchdog())
            # No collector pauses in the generator while it measures: it would charge them to the server.
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                await asyncio.sleep(0.2)  # let set-up events (queue, accepted) drain from the sockets
                maximum = await self.closed_loop(
                    int(config["concurrency"]), float(config["warmup"]), float(config["duration"])
                )
                result["max"] = maximum
                gc.collect()
                rate = float(
                    config.get("half_rate") or maximum["msg_per_s"] * float(config.get("half_fraction", 0.5))
                )
                if rate <= 0:
                    raise RuntimeError("no message completed in the max phase; nothing to take half of")
                await asyncio.sleep(0.5)
                result["half"] = await self.open_loop(rate, float(config["duration"]))
            finally:
                gc.enable()
                watchdog.cancel()
                self.closing = True
                for ws in self.sockets:
                    await ws.close()
                for reader in self.readers:
                    reader.cancel()
                await asyncio.gather(*self.readers, return_exceptions=True)
        counters = self.counters
        sent = counters.matched + counters.lost_frames
        result["frames"] = {
            "matched": counters.matched,
            "on_other_agents_sockets": counters.elsewhere,
            "duplicates": counters.duplicates,
            "late": counters.late,
            "unknown": counters.unknown,
            "other_events": counters.other_frames,
            "message_frames_per_message": round((counters.matched + counters.elsewhere) / sent, 2)
            if sent
            else None,
        }
        result["http_errors"] = counters.http_errors
        result["lost_frames"] = counters.lost_frames
        result["socket_errors"] = self.socket_errors
        result["error_samples"] = counters.samples
        return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.load CONFIG.json", file=sys.stderr)
        return 2
    with open(args[0]) as handle:
        config = json.load(handle)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        runner = asyncio.run
    try:
        result = runner(Bench(config).run())
    except Exception as problem:
        print(json.dumps({"system": config.get("system"), "fatal": f"{type(problem).__name__}: {problem}"}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
