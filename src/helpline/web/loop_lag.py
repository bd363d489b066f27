"""An opt-in profile of what stops the event loop: ``HELPLINE_LOOP_LAG_PROFILE=/path/file.json``.

Everything Helpline does for a message happens on one event loop, so a message is as late as the longest
turn of the loop it waited behind. Sampling profilers show where the CPU goes on average; a stall of
30 ms in ten seconds is invisible there. This shows the stalls themselves:

- a heartbeat on the loop (a callback every ``beat`` seconds) records every gap between two beats longer
  than ``threshold`` (a *stall*: nothing else ran on the loop meanwhile, or too much did);
- a daemon thread wakes every ``poll`` seconds and, while the heartbeat is late, samples the loop thread's
  stack (``sys._current_frames``), so each stall comes with what the loop was doing in it;
- each sample also says whether the loop thread was running (``[R]``) or asleep and in what (``[S ep_poll]``
  waiting for I/O, ``[S futex_wait_queue]`` for a lock such as the GIL), and each stall how long the
  thread waited for a CPU in it (``runqueue_ms``, from ``/proc/self/task/<id>/schedstat``): a stall the
  operating system caused by running something else is not the loop's doing;
- ``gc.callbacks`` time every collection (generation, milliseconds): the collector runs inside whatever
  callback allocated last, so its pauses show as stalls with an innocent stack;
- other parts of the server can report waits that are not the loop's own (the SQLite writer held off by a
  checkpoint, a slow group commit) through :meth:`LoopLagProfiler.note`.

At shutdown the profile is written as JSON: the stalls with their wall-clock start (to line them up with
the load generator's slowest messages), the stacks seen in stalls with counts, the collections and the
notes. ``python -m bench --lag-profile`` turns it on for Helpline and summarises it. It costs a timer
callback per millisecond and a thread waking as often: for measuring, not for production.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import json
import os
import sys
import sysconfig
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

ENV_PATH = "HELPLINE_LOOP_LAG_PROFILE"
ENV_THRESHOLD = "HELPLINE_LOOP_LAG_MS"
DEFAULT_THRESHOLD_MS = 5.0
BEAT_SECONDS = 0.001
POLL_SECONDS = 0.001
STACK_DEPTH = 40
KEPT_STALLS = 5000
KEPT_NOTES = 20_000
KEPT_COLLECTIONS = 20_000
TOP_STACKS = 40

_PREFIXES = sorted(
    {
        p.rstrip("/") + "/"
        for p in (sysconfig.get_paths().get("purelib", ""), sysconfig.get_paths().get("stdlib", ""))
        if p
    }
    | {str(Path(__file__).resolve().parents[2]) + "/"},
    key=len,
    reverse=True,
)


def _where(frame: FrameType) -> str:
    name = frame.f_code.co_filename
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return f"{name}:{frame.f_lineno} {frame.f_code.co_name}"


def _stack(frame: FrameType | None) -> tuple[str, ...]:
    """The innermost ``STACK_DEPTH`` frames, innermost first."""
    found: list[str] = []
    while frame is not None and len(found) < STACK_DEPTH:
        found.append(_where(frame))
        frame = frame.f_back
    return tuple(found)


class LoopLagProfiler:
    def __init__(
        self,
        path: str,
        threshold_ms: float = DEFAULT_THRESHOLD_MS,
        beat: float = BEAT_SECONDS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.path = path
        self.threshold = threshold_ms / 1000
        self.beat = beat
        self.poll = poll
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._loop_task = ""  # /proc/self/task/<id>: the loop thread's scheduler figures (Linux)
        self._last_beat = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._started_at = 0.0
        self._offset = 0.0  # perf_counter -> wall clock
        self._beats = 0
        # (start, ms) of every beat gap past the threshold, in perf_counter time
        # (the last ones are kept: the half-load phase comes last in a bench run)
        self._stalls: collections.deque[tuple[float, float]] = collections.deque(maxlen=KEPT_STALLS)
        self._stall_count = 0
        # samples taken while a beat was late: by the beat they followed, and by stack
        self._samples_by_beat: dict[float, collections.Counter[int]] = {}
        # ms the loop thread waited for a CPU (runnable, not running) during each stall, by beat
        self._runqueue_by_beat: dict[float, float] = {}
        self._stack_ids: dict[tuple[str, ...], int] = {}
        self._stack_counts: collections.Counter[int] = collections.Counter()
        self._gc_started = 0.0
        # (start, generation, ms, collected)
        self._collections: collections.deque[tuple[float, int, float, int]] = collections.deque(
            maxlen=KEPT_COLLECTIONS
        )
        self._gc_totals: dict[int, list[float]] = {}  # generation -> [count, total ms, max ms]
        self._notes: collections.deque[tuple[float, str, float, Any]] = collections.deque(maxlen=KEPT_NOTES)

    # -- running ---------------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Call on ``loop``'s thread, with the loop running."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._loop_task = f"/proc/self/task/{threading.get_native_id()}"
        self._offset = time.time() - time.perf_counter()
        self._started_at = self._last_beat = time.perf_counter()
        self._handle = loop.call_later(self.beat, self._on_beat)
        gc.callbacks.append(self._on_gc)
        self._watcher = threading.Thread(target=self._watch, name="helpline-loop-lag", daemon=True)
        self._watcher.start()

    def _on_beat(self) -> None:
        current = time.perf_counter()
        gap = current - self._last_beat
        self._beats += 1
        if gap > self.threshold:
            self._stall_count += 1
            self._stalls.append((self._last_beat, gap * 1000))
        self._last_beat = current
        assert self._loop is not None
        self._handle = self._loop.call_later(self.beat, self._on_beat)

    def _runqueue_ns(self) -> int | None:
        """Nanoseconds the loop thread has spent runnable but waiting for a CPU (``schedstat``)."""
        try:
            with open(f"{self._loop_task}/schedstat") as handle:
                return int(handle.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None

    def _state(self) -> str:
        """The loop thread's scheduler state and, when asleep, what it sleeps in (``[S ep_poll]``: waiting
        for I/O; ``[S futex...]``: for a lock, e.g. the GIL; ``[R]``: running or waiting for a CPU)."""
        try:
            with open(f"{self._loop_task}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
            if state != "R":
                with open(f"{self._loop_task}/wchan") as handle:
                    state = f"{state} {handle.read().strip()}"
        except (OSError, IndexError):
            return "[?]"
        return f"[{state}]"

    def _watch(self) -> None:
        previous = self._runqueue_ns()
        while not self._stop.wait(self.poll):
            last = self._last_beat
            runqueue = self._runqueue_ns()
            waited = 0 if previous is None or runqueue is None else runqueue - previous
            previous = runqueue
            if time.perf_counter() - last <= self.threshold:
                continue
            self._runqueue_by_beat[last] = self._runqueue_by_beat.get(last, 0.0) + waited / 1e6
            state = self._state()
            frame = sys._current_frames().get(self._loop_thread)
            stack = (state, *_stack(frame))
            del frame
            ident = self._stack_ids.setdefault(stack, len(self._stack_ids))
            self._stack_counts[ident] += 1
            self._samples_by_beat.setdefault(last, collections.Counter())[ident] += 1

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            ms = (time.perf_counter() - self._gc_started) * 1000
            generation = info["generation"]
            self._collections.append((self._gc_started, generation, ms, info.get("collected", 0)))
            totals = self._gc_totals.setdefault(generation, [0, 0.0, 0.0])
            totals[0] += 1
            totals[1] += ms
            totals[2] = max(totals[2], ms)
            self._gc_started = 0.0

    def note(self, kind: str, started: float, seconds: float, detail: Any = None) -> None:
        """Record a wait that is not the loop's own (``started`` in ``time.perf_counter`` time); callable
        from any thread."""
        self._notes.append((started, kind, seconds * 1000, detail))

    def stop(self) -> None:
        """Stop sampling and write the profile (call on the loop's thread)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        if self._handle is not None:
            self._handle.cancel()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.profile()))
        os.replace(tmp, path)

    # -- the profile --------------------------------------------------------------------------------

    def profile(self) -> dict[str, Any]:
        wall = self._offset
        stacks = {ident: list(stack) for stack, ident in self._stack_ids.items()}
        return {
            "threshold_ms": self.threshold * 1000,
            "beat_ms": self.beat * 1000,
            "started_at": round(self._started_at + wall, 4),
            "ended_at": round(time.perf_counter() + wall, 4),
            "beats": self._beats,
            "stall_count": self._stall_count,
            # each stall: wall-clock start, length, and the stacks sampled in it (ids into "stacks")
            "stalls": [
                {
                    "at": round(start + wall, 4),
                    "ms": round(ms, 2),
                    "samples": dict(self._samples_by_beat.get(start, {})),
                    "runqueue_ms": round(self._runqueue_by_beat.get(start, 0.0), 2),
                }
                for start, ms in self._stalls
            ],
            "stacks": {str(i): stacks[i] for i, _count in self._stack_counts.most_common(TOP_STACKS * 5)},
            "stack_counts": dict(self._stack_counts.most_common(TOP_STACKS * 5)),
            "gc": {
                str(g): {"count": int(n), "total_ms": round(total, 2), "max_ms": round(most, 2)}
                for g, (n, total, most) in sorted(self._gc_totals.items())
            },
            "collections": [
                {"at": round(start + wall, 4), "generation": g, "ms": round(ms, 3), "collected": n}
                for start, g, ms, n in self._collections
            ],
            "notes": [
                {"at": round(start + wall, 4), "kind": kind, "ms": round(ms, 3), "detail": detail}
                for start, kind, ms, detail in self._notes
            ],
        }


def from_environment() -> LoopLagProfiler | None:
    """A profiler when ``HELPLINE_LOOP_LAG_PROFILE`` names a file, else None."""
    path = os.environ.get(ENV_PATH)
    if not path:
        return None
    threshold = float(os.environ.get(ENV_THRESHOLD) or DEFAULT_THRESHOLD_MS)
    return LoopLagProfiler(path, threshold)
