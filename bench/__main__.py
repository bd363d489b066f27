"""``python -m bench``: Helpline's end-to-end throughput and latency against a floor measured in the same run.

For each system in turn (the floor, then Helpline) it starts the server as a subprocess on a free port of
127.0.0.1, waits for ``GET /healthz``, runs the load generator (``bench.load``, another subprocess) and
stops the server by its PID. Then it prints the table (or ``--json``) with PASS/MISS per budget target.

Exit code: 0 when both systems were measured (even if a target is missed: this is a measurement, not a
test); 1 when a run saw HTTP errors, lost frames or dropped sockets; 2 when a server or the set-up failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import lag, nodes, report
from bench.fixture import create_fixture, postgres_schema, serve_command
from bench.load import machine_busy_seconds
from bench.procs import PYTHON, ROOT, BenchError, floor_command, free_port, run_json, server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase (default 10)")
    parser.add_argument(
        "--warmup", type=float, default=None, help="seconds before the max window (default 1)"
    )
    parser.add_argument("--interactions", type=int, default=50, help="conversations (default 50)")
    parser.add_argument("--agents", type=int, default=5, help="agents, one websocket each (default 5)")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop senders (default 32)")
    parser.add_argument(
        "--half", type=float, default=0.5, help="open-loop rate as a fraction of max (default 0.5)"
    )
    parser.add_argument(
        "--database-url",
        help="bench Helpline on this database instead of a fresh SQLite file; for postgresql://... a "
        "schema bench_<random> is created for the run and dropped afterwards",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure floor and Helpline this many times, alternating; the table is the round with the "
        "median ratio (default 3; 1 with --quick)",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="give Helpline's token a webhook URL (a counting receiver on 127.0.0.1); customer messages "
        "trigger no Omnize V1 webhook, so what arrives is the set-up's triggers (see bench/README.md)",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="with N > 1: one process against N on one PostgreSQL (--database-url) and Redis (--redis-url), "
        "every frame crossing processes (see bench/nodes.py); no floor",
    )
    parser.add_argument("--redis-url", help="Redis for --nodes (the processes' doorbell)")
    parser.add_argument("--quick", action="store_true", help="2 s phases and a short warm-up (CI smoke)")
    parser.add_argument("--only", choices=["floor", "helpline"], help="measure one system only")
    parser.add_argument("--log-level", default="warning", help="both servers' log level (default warning)")
    parser.add_argument(
        "--frame-timeout", type=float, default=5.0, help="seconds after a 200 before a frame is lost"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each system, wait up to this long for the rest of the machine to go idle (default: don't)",
    )
    parser.add_argument(
        "--lag-profile",
        nargs="?",
        const=4.0,
        type=float,
        default=None,
        metavar="MS",
        help="run Helpline with its loop-lag profiler (stalls over MS ms, default 4; helpline.web.loop_lag) "
        "and print what stopped its loop during the half phase (the profiler costs it some CPU)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 2.0)
        if "--rounds" not in (argv if argv is not None else sys.argv[1:]):
            args.rounds = 1
    if args.warmup is None:
        args.warmup = 0.5 if args.quick else 1.0
    for name in ("duration", "interactions", "agents", "concurrency", "rounds"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    if args.rounds > 1 and args.database_url and args.database_url.startswith("sqlite"):
        parser.error("an SQLite --database-url holds one round's data: use --rounds 1 with it")
    if args.agents > args.interactions:
        parser.error("--agents cannot exceed --interactions")
    return args


def source_state() -> str | None:
    """The commit the measured code is at, with ``-dirty`` when its working tree has changes (best effort)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def say(text: str) -> None:
    """Progress on stderr, so that ``--json`` keeps stdout to the one object."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def load(config: dict[str, Any], workdir: Path) -> dict[str, Any]:
    path = workdir / f"load-{config['system']}.json"
    path.write_text(json.dumps(config))
    say(
        f"{config['system']} (pid {config['server_pid']}) on {config['base_url']}: set-up, then "
        f"{config['warmup'] + config['duration']:g} s max, {config['duration']:g} s at half load"
    )
    budget = 2 * config["warmup"] + 2 * config["duration"] + 4 * config["frame_timeout"] + 120
    result = run_json([PYTHON, "-m", "bench.load", str(path)], timeout=budget)
    # Every round's whole result (the JSON output has the shown round's): kept with --keep.
    (workdir / f"result-{config['system']}.json").write_text(json.dumps(result))
    return result


def wait_quiet(limit: float, threshold: float = 25.0) -> float | None:
    """Wait (up to ``limit`` s) until other processes use under ``threshold``% of a core; return the last %."""
    deadline = time.monotonic() + limit
    busy = None
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        after = machine_busy_seconds()
        if before is None or after is None:
            return None
        busy = round((after - before) * 100, 1)
        if busy < threshold or time.monotonic() >= deadline:
            return busy
        say(f"the machine is busy ({busy:.0f}% of a core in use by others); waiting for it to go quiet")


def bench_floor(args: argparse.Namespace, workdir: Path, common: dict[str, Any]) -> dict[str, Any]:
    port = free_port()
    command = floor_command(port, workdir / "floor.db", args.log_level)
    with server(command, port, workdir / "floor.log") as pid:
        return load(
            {**common, "system": "floor", "base_url": f"http://127.0.0.1:{port}", "server_pid": pid}, workdir
        )


def bench_helpline(
    args: argparse.Namespace, workdir: Path, common: dict[str, Any], database_url: str
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        webhook_url = receiver_url = None
        env = {**os.environ, "HELPLINE_DATA_DIR": str(workdir / "helpline")}
        profile_path = workdir / "loop-lag.json"
        if args.lag_profile is not None:
            env["HELPLINE_LOOP_LAG_PROFILE"] = str(profile_path)
            env["HELPLINE_LOOP_LAG_MS"] = str(args.lag_profile)
        if args.webhook:
            receiver_port = free_port()
            stack.enter_context(
                server(
                    [PYTHON, "-m", "bench.receiver", "--port", str(receiver_port)],
                    receiver_port,
                    workdir / "receiver.log",
                )
            )
            receiver_url = f"http://127.0.0.1:{receiver_port}"
            webhook_url = f"{receiver_url}/hook"
            env["HELPLINE_OUTBOUND_ALLOW"] = "127.0.0.1/32"  # the SSRF guard refuses loopback otherwise
        say(f"creating Helpline's account, department, token and {args.agents} agents with the CLI")
        fixture = create_fixture(database_url, args.agents, webhook_url)
        port = free_port()
        command = serve_command(port, database_url, args.log_level)
        with server(command, port, workdir / "helpline.log", env) as pid:
            result = load(
                {
                    **common,
                    "system": "helpline",
                    "base_url": f"http://127.0.0.1:{port}",
                    "server_pid": pid,
                    "token": fixture.token,
                    "department_id": fixture.department_id,
                    "agent_keys": fixture.agent_keys,
                    # PostgreSQL on this machine does part of Helpline's work: meter its processes apart.
                    "database_process": "postgres" if database_url.startswith("postgres") else None,
                },
                workdir,
            )
        if receiver_url is not None:
            result["webhooks_received"] = received(receiver_url)
        if args.lag_profile is not None:
            result["lag_profile"] = lag_summary(profile_path, result.get("half"))
        return result


def lag_summary(path: Path, half: dict[str, Any] | None) -> dict[str, Any]:
    """The half phase's part of the profile the server wrote at shutdown."""
    try:
        profile = json.loads(path.read_text())
    except (OSError, ValueError) as problem:
        return {"error": f"no loop-lag profile at {path}: {problem}"}
    return {**lag.summarise(profile, half), "file": str(path)}


def received(receiver_url: str) -> int | None:
    """How many webhook POSTs the receiver counted (after Helpline stopped, so its last sends are in)."""
    try:
        with urllib.request.urlopen(f"{receiver_url}/count", timeout=5) as answer:  # noqa: S310 - our own http://127.0.0.1 receiver
            return int(json.loads(answer.read())["posts"])
    except (OSError, ValueError, KeyError):
        return None


def measure_round(
    args: argparse.Namespace, workdir: Path, common: dict[str, Any], store: str
) -> dict[str, Any]:
    """The floor, then Helpline (each on a fresh database): one round."""
    workdir.mkdir(parents=True)
    measured: dict[str, Any] = {"floor": None, "helpline": None}
    if args.only != "helpline":
        if args.wait_quiet > 0:
            measured["busy_before_floor_pct"] = wait_quiet(args.wait_quiet)
        measured["floor"] = bench_floor(args, workdir, common)
    if args.only != "floor":
        with contextlib.ExitStack() as stack:
            if store == "postgresql":
                url = stack.enter_context(postgres_schema(args.database_url))
            else:
                url = args.database_url or f"sqlite:///{workdir / 'helpline' / 'helpline.db'}"
                (workdir / "helpline").mkdir(exist_ok=True)
            if args.wait_quiet > 0:
                measured["busy_before_helpline_pct"] = wait_quiet(args.wait_quiet)
            measured["helpline"] = bench_helpline(args, workdir, common, url)
    return measured


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="helpline-bench-"))
    common = {
        "interactions": args.interactions,
        "agents": args.agents,
        "concurrency": args.concurrency,
        "duration": args.duration,
        "warmup": args.warmup,
        "half_fraction": args.half,
        "frame_timeout": args.frame_timeout,
    }
    store = "postgresql" if args.database_url and args.database_url.startswith("postgres") else "sqlite"
    summary: dict[str, Any] = {
        "settings": {
            **common,
            "cpus": os.cpu_count(),
            "store": store,
            "log_level": args.log_level,
            "rounds": args.rounds,
            "webhook": args.webhook,
            "source": source_state(),
        },
        "floor": None,
        "helpline": None,
        "rounds": [],
    }
    if args.nodes > 1:
        return main_nodes(args, workdir, common)
    started = time.monotonic()
    code = 0
    rounds: list[dict[str, Any]] = []
    try:
        for number in range(1, args.rounds + 1):
            if args.rounds > 1:
                say(f"round {number} of {args.rounds}")
            rounds.append(measure_round(args, workdir / f"round{number}", common, store))
    except BenchError as failure:
        summary["error"] = str(failure)
        code = 2
    finally:
        summary["seconds"] = round(time.monotonic() - started, 1)
        if args.keep:
            summary["workdir"] = str(workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if rounds:
        chosen = report.median_round(rounds)
        summary["floor"], summary["helpline"] = chosen["floor"], chosen["helpline"]
        summary["rounds"] = report.round_figures(rounds)
        if args.lag_profile is not None:
            summary["lag_profiles"] = [(r.get("helpline") or {}).get("lag_profile") for r in rounds]
    summary["verdicts"] = report.verdicts(summary["floor"], summary["helpline"], rounds)
    ran = [r[name] for r in rounds for name in ("floor", "helpline") if r.get(name) is not None]
    if code == 0 and any(report.problems(result) for result in ran):
        code = 1
    summary["exit_code"] = code
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(report.table(summary))
        if summary.get("error"):
            print(f"ERROR: {summary['error']}", file=sys.stderr)
    return code


def main_nodes(args: argparse.Namespace, workdir: Path, common: dict[str, Any]) -> int:
    started = time.monotonic()
    made: dict[str, Any] = {"settings": {**common, "nodes": args.nodes, "cpus": os.cpu_count()}}
    code = 0
    try:
        results = nodes.run_nodes(args, workdir / "nodes", common, load, say)
        made |= nodes.summary(results, args.nodes)
        if any(report.problems(result) for result in results.values()):
            code = 1
    except BenchError as failure:
        made["error"] = str(failure)
        code = 2
    finally:
        made["seconds"] = round(time.monotonic() - started, 1)
        shutil.rmtree(workdir, ignore_errors=True)
    made["exit_code"] = code
    if args.json:
        print(json.dumps(made, indent=2))
    else:
        print(nodes.table(made, args.nodes))
        if made.get("error"):
            print(f"ERROR: {made['error']}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
