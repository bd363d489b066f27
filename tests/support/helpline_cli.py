"""Running the installed ``helpline`` console script as an operator would, for the CLI tests."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

# The installed console script, found beside the interpreter when the virtualenv is not activated.
HELPLINE = shutil.which("helpline") or str(Path(sys.executable).with_name("helpline"))


def helpline(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one command against the SQLite database in ``data_dir``, ignoring the caller's HELPLINE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    return subprocess.run(
        [HELPLINE, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def as_json(data_dir: Path, *args: str) -> dict[str, Any]:
    """Run with ``--json``: it must succeed and print exactly one JSON object."""
    done = helpline(data_dir, *args, "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    parsed: dict[str, Any] = json.loads(lines[0])
    return parsed


class Served:
    """``helpline serve`` running as its own process; its stdout and stderr go to files the test reads."""

    def __init__(self, data_dir: Path, port: int, process: subprocess.Popen[bytes], logs: Path) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = process
        self._logs = logs

    def output(self) -> str:
        """Everything the server wrote so far, stdout then stderr."""
        return (self._logs / "stdout").read_text() + (self._logs / "stderr").read_text()

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.output()


def _limit_files(count: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


@contextlib.contextmanager
def served(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    log_level: str = "info",
    file_limit: int | None = None,
) -> Iterator[Served]:
    """Start ``helpline serve`` on a free loopback port and wait for ``/healthz``; stop it afterwards.
    ``file_limit`` caps the server's open files (soft and hard), as a host with a low limit would."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    if "--port" in args:  # a port of the caller's (a cluster node restarting on its own): the last one wins
        port = int(args[len(args) - 1 - args[::-1].index("--port") + 1])
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    environ.update(env or {})
    command = [HELPLINE, "serve", "--data-dir", str(data_dir), "--port", str(port), "--log-level", log_level]
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        process = subprocess.Popen(
            [*command, *args],
            stdout=out,
            stderr=err,
            env=environ,
            preexec_fn=None if file_limit is None else functools.partial(_limit_files, file_limit),
        )
    running = Served(data_dir, port, process, logs)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"helpline serve exited ({process.returncode}):\n{running.output()}")
            try:
                if httpx.get(running.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"helpline serve did not answer /healthz:\n{running.output()}")
            time.sleep(0.1)
        yield running
    finally:
        running.stop()
