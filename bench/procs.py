"""Starting and stopping the processes of a run: each by its own PID, always stopped in the end."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent  # so ``python -m bench.*`` resolves from any working directory


class BenchError(Exception):
    """Something that makes the measurement impossible (a server that does not start, a failed set-up)."""


async def answered_json(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    """A set-up request's JSON answer; any answer but a success makes the measurement impossible."""
    async with session.request(method, url, **kwargs) as response:
        text = await response.text()
        if response.status >= 300:
            raise BenchError(f"{method} {url} answered {response.status}: {text[:300]}")
        return json.loads(text)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def floor_command(port: int, db: Path, log_level: str) -> list[str]:
    """The floor (``bench/floor.py``) on 127.0.0.1:``port``, inserting into ``db``."""
    return [PYTHON, "-m", "bench.floor", "--port", str(port), "--db", str(db), "--log-level", log_level]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_healthy(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 60.0) -> None:
    """Poll ``GET /healthz`` until it answers ``{"status": "ok"}``; fail early if the process exits."""
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"server exited with code {process.returncode} before it was ready:\n{tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if json.loads(answer.read()).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise BenchError(f"server did not answer {url} within {timeout:.0f} s:\n{tail(log)}")


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGINT (uvicorn's graceful shutdown), then SIGKILL if it lingers; only this PID."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(5)


@contextlib.contextmanager
def server(command: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run a server, wait until healthy, yield its PID; stop it however the block ends."""
    with log.open("ab") as out:
        process = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        wait_healthy(process, port, log)
        yield process.pid
    finally:
        stop(process)


def run_json(command: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, object]:
    """Run a command that prints one JSON object; fail with its output otherwise."""
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired as slow:
        raise BenchError(f"{' '.join(command[:6])} ... did not finish within {timeout:.0f} s") from slow
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        value = json.loads(lines[-1]) if lines else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise BenchError(
            f"{' '.join(command[:6])} ... exited {done.returncode} without a JSON object:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    if done.returncode != 0 and "fatal" not in value:
        raise BenchError(f"{' '.join(command[:6])} ... exited {done.returncode}:\n{done.stderr[-2000:]}")
    return value
