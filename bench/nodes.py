"""``python -m bench --nodes N --database-url postgresql://... --redis-url redis://...``: several processes.

The same load as the single-process bench, run twice on PostgreSQL, each time on a fresh schema: once
against one ``helpline serve``, once against N of them sharing the database and Redis. In the N-process
run every agent's socket is held by one process and its conversations' messages are posted through
another, so every frame measured crossed processes (through the Redis doorbell, or polling when it
misses). The figures: each run's maximum throughput, and the frame latency (from the POST to the frame
on the socket) at half of that run's maximum rate.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

from bench.fixture import create_fixture, postgres_schema, serve_command
from bench.procs import BenchError, free_port, server


def run_nodes(
    args: argparse.Namespace, workdir: Path, common: dict[str, Any], load: Any, say: Any
) -> dict[str, Any]:
    """One process, then ``args.nodes`` processes; ``load`` is ``bench.__main__.load``."""
    if not (args.database_url or "").startswith("postgres"):
        raise BenchError("--nodes needs --database-url postgresql://... (the processes share it)")
    if not args.redis_url:
        raise BenchError("--nodes needs --redis-url redis://... (the processes' doorbell)")
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for count in (1, args.nodes):
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(postgres_schema(args.database_url))
            say(f"{count} process(es): creating the account, department, token and {args.agents} agents")
            fixture = create_fixture(url, args.agents)
            # One data directory: the processes share its server key, as a cluster shares HELPLINE_SECRET_KEY.
            env = {**os.environ, "HELPLINE_DATA_DIR": str(workdir / "helpline")}
            urls, pids = [], []
            for number in range(count):
                port = free_port()
                command = [*serve_command(port, url, args.log_level), "--redis-url", args.redis_url]
                env_node = {**env, "HELPLINE_NODE_NAME": f"bench-{count}-{number}"}
                pids.append(
                    stack.enter_context(
                        server(command, port, workdir / f"node{count}-{number}.log", env_node)
                    )
                )
                urls.append(f"http://127.0.0.1:{port}")
            results[str(count)] = load(
                {
                    **common,
                    "system": f"helpline-{count}",
                    "base_url": urls[0],
                    "node_urls": urls,
                    "server_pid": pids[0],  # the CPU figures are the first process's alone
                    "token": fixture.token,
                    "department_id": fixture.department_id,
                    "agent_keys": fixture.agent_keys,
                    "database_process": "postgres",
                },
                workdir,
            )
    return results


def summary(results: dict[str, Any], nodes: int) -> dict[str, Any]:
    one, many = results.get("1"), results.get(str(nodes))

    def figures(result: dict[str, Any] | None) -> dict[str, Any] | None:
        if not result:
            return None
        e2e = (result.get("half") or {}).get("e2e_ms") or {}
        return {
            "max_msg_per_s": (result.get("max") or {}).get("msg_per_s"),
            "half_rate": (result.get("half") or {}).get("target_rate"),
            "half_e2e_p50_ms": e2e.get("p50"),
            "half_e2e_p99_ms": e2e.get("p99"),
            "http_errors": result.get("http_errors"),
            "lost_frames": result.get("lost_frames"),
        }

    made = {"1": figures(one), str(nodes): figures(many)}
    first, second = made["1"], made[str(nodes)]
    if first and second and first["max_msg_per_s"]:
        made["throughput_ratio"] = round(second["max_msg_per_s"] / first["max_msg_per_s"], 2)
    return made


def table(made: dict[str, Any], nodes: int) -> str:
    lines = [
        f"{'processes':<10} {'max msg/s':>10} {'half rate':>10} {'half p50 ms':>12} {'half p99 ms':>12}"
        f" {'errors':>7} {'lost':>5}"
    ]
    for key in ("1", str(nodes)):
        row = made.get(key)
        if row:
            lines.append(
                f"{key:<10} {row['max_msg_per_s'] or 0:>10.0f} {row['half_rate'] or 0:>10.0f}"
                f" {row['half_e2e_p50_ms'] or 0:>12.1f} {row['half_e2e_p99_ms'] or 0:>12.1f}"
                f" {row['http_errors'] or 0:>7} {row['lost_frames'] or 0:>5}"
            )
    if "throughput_ratio" in made:
        lines.append(f"{nodes} processes / 1 process: {made['throughput_ratio']:.2f}x throughput")
    lines.append(
        f"(with {nodes} processes every frame crosses processes: posted through one, read on another's socket)"
    )
    return "\n".join(lines)
