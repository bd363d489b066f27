"""Turning two load results into the verdicts of the performance budget, as a table or as JSON."""

from __future__ import annotations

from typing import Any

RATIO_TARGET = 0.5  # Helpline's max throughput / the floor's (design.md, "Performance budget")
P99_TARGET_MS = 25.0  # Helpline's p99 at half of its own max rate


def _get(result: dict[str, Any] | None, *path: str) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def problems(result: dict[str, Any] | None) -> list[str]:
    """What makes one system's figures unusable: a fatal error, HTTP errors, lost frames, dropped sockets."""
    if result is None:
        return ["not run"]
    found = []
    if result.get("fatal"):
        found.append(str(result["fatal"]))
    if result.get("http_errors"):
        found.append(f"{result['http_errors']} HTTP errors")
    if result.get("lost_frames"):
        found.append(f"{result['lost_frames']} lost frames")
    found.extend(result.get("socket_errors") or [])
    if _get(result, "half", "client_overloaded"):
        found.append("the load generator could not keep the half-load schedule")
    return found


def verdicts(
    floor: dict[str, Any] | None,
    helpline: dict[str, Any] | None,
    rounds: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """PASS/MISS per target. With several rounds each target is judged on its median over the rounds: the
    ratio's median is the shown round's (see :func:`median_round`); the p99's is taken on its own, since
    the round with the median ratio need not be the one with the median latency (one stall of the
    machine in ten seconds is enough to move a p99)."""
    measured = _ratio({"floor": floor, "helpline": helpline})
    ratio = None if measured is None else round(measured, 3)
    p99 = _get(helpline, "half", "e2e_ms", "p99")
    if rounds and len(rounds) > 1:
        p99s = sorted(
            value for r in rounds if (value := _get(r.get("helpline"), "half", "e2e_ms", "p99")) is not None
        )
        p99 = p99s[len(p99s) // 2] if p99s else None  # of an even count, the higher middle
    return {
        "ratio": ratio,
        "ratio_target": RATIO_TARGET,
        "ratio_verdict": None if ratio is None else ("PASS" if ratio >= RATIO_TARGET else "MISS"),
        "helpline_half_p99_ms": p99,
        "p99_target_ms": P99_TARGET_MS,
        "p99_verdict": None if p99 is None else ("PASS" if p99 < P99_TARGET_MS else "MISS"),
    }


def _ratio(measured: dict[str, Any]) -> float | None:
    floor_max = _get(measured.get("floor"), "max", "msg_per_s")
    helpline_max = _get(measured.get("helpline"), "max", "msg_per_s")
    return helpline_max / floor_max if floor_max and helpline_max is not None else None


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose ratio is the median (the lower middle of an even count): on a shared or virtual
    machine the speed drifts from minute to minute, and one round can land on a fast floor and a slow
    Helpline or the reverse. Showing one whole round keeps every figure of the table from the same run."""
    if len(rounds) == 1:
        return rounds[0]

    def key(measured: dict[str, Any]) -> float:
        ratio = _ratio(measured)
        if ratio is not None:
            return ratio
        only = measured.get("helpline") or measured.get("floor")
        return float(_get(only, "max", "msg_per_s") or 0.0)

    ordered = sorted(rounds, key=key)
    return ordered[(len(ordered) - 1) // 2]


def round_figures(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each round's headline figures, in the order they ran."""
    figures = []
    for measured in rounds:
        ratio = _ratio(measured)
        figures.append(
            {
                "floor_msg_per_s": _get(measured.get("floor"), "max", "msg_per_s"),
                "helpline_msg_per_s": _get(measured.get("helpline"), "max", "msg_per_s"),
                "ratio": None if ratio is None else round(ratio, 3),
                "helpline_half_p99_ms": _get(measured.get("helpline"), "half", "e2e_ms", "p99"),
                "steal_pct": max(
                    (
                        value
                        for name in ("floor", "helpline")
                        for phase in ("max", "half")
                        if isinstance(value := _get(measured.get(name), phase, "steal_cpu_pct"), (int, float))
                    ),
                    default=None,
                ),
                **{k: v for k, v in measured.items() if k.startswith("busy_before_")},
            }
        )
    return figures


def _fmt(value: Any, spec: str = ".1f", suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:{spec}}{suffix}"
    return str(value)


def table(summary: dict[str, Any]) -> str:
    floor, helpline = summary.get("floor"), summary.get("helpline")
    verdict = summary["verdicts"]
    settings = summary["settings"]
    rows: list[tuple[str, str, str, str, str]] = []

    def row(label: str, path: tuple[str, ...], spec: str = ".1f", suffix: str = "") -> None:
        rows.append(
            (label, _fmt(_get(floor, *path), spec, suffix), _fmt(_get(helpline, *path), spec, suffix), "", "")
        )

    row("max throughput (msg/s)", ("max", "msg_per_s"))
    rows.append(
        (
            "  helpline / floor",
            "",
            _fmt(verdict["ratio"], ".2f"),
            f">= {RATIO_TARGET:.2f}",
            verdict["ratio_verdict"] or "-",
        )
    )
    row("  e2e p50 at max (ms)", ("max", "e2e_ms", "p50"), ".2f")
    row("  e2e p99 at max (ms)", ("max", "e2e_ms", "p99"), ".2f")
    row("  server CPU at max", ("max", "server_cpu_pct"), ".0f", "%")
    row("  client CPU at max", ("max", "client_cpu_pct"), ".0f", "%")
    if _get(helpline, "max", "database_cpu_pct") is not None:
        row("  PostgreSQL's CPU", ("max", "database_cpu_pct"), ".0f", "%")
    row("  other processes' CPU", ("max", "other_cpu_pct"), ".0f", "%")
    row("  interrupts (network)", ("max", "irq_cpu_pct"), ".0f", "%")
    row("  stolen by the VM's host", ("max", "steal_cpu_pct"), ".0f", "%")
    row("half-load rate (msg/s)", ("half", "target_rate"))
    row("  completed", ("half", "completed"), "d")
    row("  e2e p50 (ms)", ("half", "e2e_ms", "p50"), ".2f")
    several = len(summary.get("rounds") or []) > 1
    if several:
        row("  e2e p99 (ms)", ("half", "e2e_ms", "p99"), ".2f")
    rows.append(
        (
            f"  e2e p99, median of {len(summary['rounds'])} rounds" if several else "  e2e p99 (ms)",
            "" if several else _fmt(_get(floor, "half", "e2e_ms", "p99"), ".2f"),
            _fmt(verdict["helpline_half_p99_ms"], ".2f"),
            f"< {P99_TARGET_MS:.0f} ms",
            verdict["p99_verdict"] or "-",
        )
    )
    row("  e2e max (ms)", ("half", "e2e_ms", "max"), ".2f")
    row("  POST p99 (ms)", ("half", "post_ms", "p99"), ".2f")
    row("  send lag p99 (ms)", ("half", "send_lag_ms", "p99"), ".2f")
    row("  server CPU at half", ("half", "server_cpu_pct"), ".0f", "%")
    row("  stolen by the VM's host", ("half", "steal_cpu_pct"), ".0f", "%")
    row("message frames per message", ("frames", "message_frames_per_message"), ".1f")
    if _get(helpline, "webhooks_received") is not None:
        row("webhooks received", ("webhooks_received",), "d")
    row("HTTP errors", ("http_errors",), "d")
    row("lost frames", ("lost_frames",), "d")

    header = ("", "floor", "helpline", "target", "result")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [
        f"Helpline end-to-end benchmark: {settings['cpus']} CPUs, helpline on {settings['store']}, floor on sqlite; "
        f"{settings['interactions']} interactions, {settings['agents']} agents, {settings['concurrency']} senders, "
        f"{settings['duration']} s phases; source {settings.get('source') or 'unknown'}"
        + (
            "; Helpline's token has a webhook (each message is also delivered)"
            if settings.get("webhook")
            else ""
        ),
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))
        ),
    ]
    lines.append("-" * len(lines[-1]))
    if len(summary.get("rounds") or []) > 1:
        lines.insert(
            1,
            "rounds (floor / helpline msg/s = ratio; helpline p99 at half): "
            + ", ".join(
                f"{_fmt(r['floor_msg_per_s'], '.0f')} / {_fmt(r['helpline_msg_per_s'], '.0f')}"
                f" = {_fmt(r['ratio'], '.2f')}; {_fmt(r['helpline_half_p99_ms'], '.1f')} ms"
                + (f" (steal {r['steal_pct']:.0f}%)" if (r.get("steal_pct") or 0) >= 5 else "")
                for r in summary["rounds"]
            )
            + " -- the table below is the round with the median ratio; each target is judged on its median",
        )
    for r in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    for name, result in (("floor", floor), ("helpline", helpline)):
        for problem in problems(result):
            if problem != "not run":
                lines.append(f"ERROR {name}: {problem}")
        for sample in _get(result, "error_samples") or []:
            lines.append(f"  e.g. {sample}")
        for phase in ("max", "half"):
            stolen = _get(result, phase, "steal_cpu_pct")
            if isinstance(stolen, (int, float)) and stolen >= 5:
                lines.append(
                    f"NOTE {name}: the VM's host took {stolen:.0f}% of a core from this machine during the "
                    f"{phase} phase; this round ran on a slower machine"
                )
            others = _get(result, phase, "other_cpu_pct")
            if isinstance(others, (int, float)) and others >= 20:
                lines.append(
                    f"NOTE {name}: other processes used {others:.0f}% of a core during the {phase} phase; "
                    "the machine was not quiet, so this run's figures are disturbed"
                )
        client = _get(result, "max", "client_cpu_pct")
        if isinstance(client, (int, float)) and client >= 90:
            lines.append(
                f"NOTE {name}: the load generator used {client:.0f}% of a core at max; "
                "that figure may be bounded by the client, not the server"
            )
    return "\n".join(lines)
