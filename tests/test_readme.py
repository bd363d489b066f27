"""The README's walkthrough runs as pasted: its shell blocks, taken from README.md, run under ``set -u``
against a real ``helpline serve`` and the README's own webhook receiver, each in its own process.

Two things differ from a person's run, both only to share the machine: the server and the receiver get
free ports instead of 8000 and 9000 (rewritten in the commands), and the virtualenv is "activated" by
putting its ``bin`` first on ``PATH``. The blocks are otherwise run byte for byte.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Walkthrough"


def walkthrough_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return re.findall(r"^```sh\n(.*?)^```$", text[start:end], flags=re.MULTILINE | re.DOTALL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shell_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextmanager
def background(script: str, cwd: Path, env: dict[str, str], name: str) -> Iterator[Path]:
    """Run a block in ``bash -u`` in its own process group (stopped by its id afterwards)."""
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-u", "-c", script],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def wait_until(check: object, what: str, log: Path, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen; its output:\n{log.read_text()}")


def test_the_walkthrough_runs_as_pasted(tmp_path: Path) -> None:
    server_block, receiver_block, *client_blocks = walkthrough_blocks()
    assert "helpline serve" in server_block
    assert "9000" in receiver_block
    port, hook_port = free_port(), free_port()

    def ported(block: str) -> str:
        return block.replace("localhost:8000", f"localhost:{port}").replace("9000", str(hook_port))

    env = shell_env()
    with (
        background(server_block, tmp_path, env | {"HELPLINE_PORT": str(port)}, "server") as server_log,
        background(ported(receiver_block), tmp_path, env, "receiver") as receiver_log,
    ):
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(url + "/healthz").status_code == 200, "the server starting", server_log)
        wait_until(
            lambda: socket.create_connection(("127.0.0.1", hook_port)).close() is None,
            "the receiver",
            receiver_log,
        )

        script = "set -u\n" + "\n".join(ported(block) for block in client_blocks)
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        wait_until(
            lambda: '"state":"finished"' in receiver_log.read_text(), "the finished webhook", receiver_log
        )
        received = receiver_log.read_text()
        server_output = server_log.read_text()

    assert "unbound variable" not in output, output
    assert "Interaction created successfully" in output
    assert "helpline: error" not in output, output
    assert "warning" not in output, output  # token create found the webhook URL allowed
    assert "Message created successfully" in output
    assert "Not Found" not in output, output
    assert not re.search(r'"status":\s*4\d\d', output), output
    # the webhook saw the whole story, each signed delivery once, in order
    states = re.findall(r'"state":"(\w+)"', received)
    assert states[0] == "queued", received
    assert states[-1] == "finished", received
    assert '"message":"Hi Joao"' in received or "Hi Joao" in received, received
    assert "succeeded" in done.stdout, output  # deliveries list
    # the server started once, quietly: no alembic chatter, no tracebacks
    assert "alembic" not in server_output.lower(), server_output
    assert "Traceback" not in server_output, server_output
