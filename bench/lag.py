"""``python -m bench --lag-profile``: what stopped Helpline's event loop during the half-load phase.

The server writes its loop-lag profile (``helpline.web.loop_lag``) at shutdown; this keeps the part that
fell inside the half-load phase and lines it up with the load generator's slowest messages: each message
over the latency target is checked against the loop stalls, the collector's passes and the SQLite write
path's waits that overlapped its life (from its scheduled send to its frame).
"""

from __future__ import annotations

import collections
from typing import Any

SLOW_MS = 10.0  # messages slower than this are explained (the p99 target)
STALL_BUCKETS = (5.0, 10.0, 25.0, 50.0)
TOP_STACKS = 5
FRAMES_SHOWN = 4


def _within(items: list[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    return [item for item in items if start <= item["at"] <= end]


def _bucket(ms: float) -> str:
    for low, high in zip(STALL_BUCKETS, (*STALL_BUCKETS[1:], None), strict=True):
        if high is None or ms < high:
            return f"{low:g}-{high:g} ms" if high is not None else f">= {low:g} ms"
    return "?"


def _overlaps(at: float, ms: float, start: float, end: float) -> bool:
    return at < end and at + ms / 1000 > start


def _short(stack: list[str]) -> str:
    """The innermost frames worth reading: skip the asyncio/uvloop plumbing at the bottom of the stack."""
    state = stack[:1] if stack and stack[0].startswith("[") else []
    frames = stack[len(state) :]
    shown = [frame for frame in frames if not frame.startswith(("asyncio/", "selectors.py", "threading.py"))]
    return " <- ".join([*state, *(shown or frames)[:FRAMES_SHOWN]])


def summarise(profile: dict[str, Any], half: dict[str, Any] | None) -> dict[str, Any]:
    """The half phase's stalls, stacks, collections and waits, and which of them the slow messages met."""
    start = float((half or {}).get("started_at") or profile["started_at"])
    # the phase's last messages are answered up to its slowest message's latency after the last send
    slowest_s = float(((half or {}).get("e2e_ms") or {}).get("max") or 0.0) / 1000
    end = float((half or {}).get("ended_at") or profile["ended_at"]) + slowest_s + 0.01
    stalls = _within(profile.get("stalls") or [], start, end)
    collections_ = _within(profile.get("collections") or [], start, end)
    notes = _within(profile.get("notes") or [], start, end)

    buckets: collections.Counter[str] = collections.Counter(_bucket(s["ms"]) for s in stalls)
    samples: collections.Counter[str] = collections.Counter()
    for stall in stalls:
        for ident, count in stall["samples"].items():
            samples[ident] += count
    stacks = profile.get("stacks") or {}
    top = [
        {"samples": count, "stack": _short(stacks.get(ident, ["(not kept)"])), "id": ident}
        for ident, count in samples.most_common(TOP_STACKS)
    ]

    gc: dict[str, dict[str, float]] = {}
    for found in collections_:
        entry = gc.setdefault(str(found["generation"]), {"count": 0, "total_ms": 0.0, "max_ms": 0.0})
        entry["count"] += 1
        entry["total_ms"] = round(entry["total_ms"] + found["ms"], 2)
        entry["max_ms"] = max(entry["max_ms"], found["ms"])
    waits: dict[str, dict[str, float]] = {}
    for note in notes:
        entry = waits.setdefault(note["kind"], {"count": 0, "total_ms": 0.0, "max_ms": 0.0})
        entry["count"] += 1
        entry["total_ms"] = round(entry["total_ms"] + note["ms"], 2)
        entry["max_ms"] = max(entry["max_ms"], note["ms"])

    slow = [(at, ms) for at, ms in (half or {}).get("slowest") or [] if ms > SLOW_MS]
    met: collections.Counter[str] = collections.Counter()
    for at, ms in slow:
        life = (at, at + ms / 1000)
        if any(_overlaps(s["at"], s["ms"], *life) and s["ms"] >= 5 for s in stalls):
            met["a loop stall >= 5 ms"] += 1
        for found in collections_:
            if found["ms"] >= 1 and _overlaps(found["at"], found["ms"], *life):
                met[f"a gen-{found['generation']} collection >= 1 ms"] += 1
                break
        kinds = {
            n["kind"]
            for n in notes
            if n["kind"] != "checkpoint_passive" and _overlaps(n["at"], n["ms"], *life)
        }
        for kind in kinds:
            met[kind] += 1
        if not any(_overlaps(s["at"], s["ms"], *life) for s in stalls):
            met["no stall seen"] += 1
    return {
        "window_s": round(end - start, 1),
        "threshold_ms": profile.get("threshold_ms"),
        "stalls": len(stalls),
        "stall_ms_total": round(sum(s["ms"] for s in stalls), 1),
        "stall_ms_max": max((s["ms"] for s in stalls), default=None),
        # of the stalls' time, how much the loop thread spent runnable but without a CPU (the machine's doing)
        "stall_runqueue_ms": round(sum(s.get("runqueue_ms") or 0.0 for s in stalls), 1),
        "stalls_by_length": dict(sorted(buckets.items())),
        "top_stacks": top,
        "gc": gc,
        "waits": waits,
        "slow_messages": len(slow),
        "slow_messages_met": dict(met.most_common()),
    }


def lines(summary: dict[str, Any]) -> list[str]:
    """The summary as a few lines under the table."""
    out = [
        f"LAG helpline, half phase ({summary['window_s']} s): {summary['stalls']} loop stalls over "
        f"{summary['threshold_ms']:g} ms (total {summary['stall_ms_total']:g} ms, longest "
        f"{summary['stall_ms_max'] or 0:g} ms; {', '.join(f'{k}: {v}' for k, v in summary['stalls_by_length'].items()) or 'none'}); "
        f"{summary['stall_runqueue_ms']:g} ms of it the loop's thread waited for a CPU"
    ]
    for entry in summary["top_stacks"]:
        out.append(f"  {entry['samples']:>4} samples in stalls: {entry['stack']}")
    gc = summary["gc"]
    if gc:
        out.append(
            "  collections: "
            + "; ".join(
                f"gen {g}: {e['count']:g} x, {e['total_ms']:g} ms in all, longest {e['max_ms']:.1f} ms"
                for g, e in sorted(gc.items())
            )
        )
    for kind, e in sorted(summary["waits"].items()):
        out.append(f"  {kind}: {e['count']:g} x, {e['total_ms']:g} ms in all, longest {e['max_ms']:.1f} ms")
    if summary["slow_messages"]:
        out.append(
            f"  of the {summary['slow_messages']} slowest messages over {SLOW_MS:g} ms (at most 200 kept), "
            "how many met: " + ", ".join(f"{k} {v}" for k, v in summary["slow_messages_met"].items())
        )
    return out
