"""Several real ``helpline serve`` processes on one PostgreSQL database (and one Redis), as an operator
runs them behind a load balancer.

Each node is its own operating-system process (never two apps in one interpreter: module globals would
hide faults). They share the database (a fresh schema per cluster), the server key (so every node reads
the secrets another sealed) and, when asked, a Redis URL. Each node has its own data directory, as
separate hosts would; pass ``shared_files`` for a directory they all use as the local file store.

Use::

    with cluster(tmp_path, nodes=2) as nodes:
        a, b = nodes
        ...
        a.kill9()        # as a crash would
        a.restart()      # the same port and data directory, the same database

PostgreSQL comes from ``HELPLINE_TEST_POSTGRES_URL`` and Redis from ``HELPLINE_TEST_REDIS_URL``
(default ``redis://127.0.0.1:6379/0``); missing services skip the test, or fail it under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpline_cli import HELPLINE, Served, served

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
from store_backends import postgres_base_url, postgres_schema, require_postgres

from helpline.store.migrate import upgrade
from helpline.store.secret_box import new_key

REDIS_ENV = "HELPLINE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get(REDIS_ENV) or DEFAULT_REDIS_URL


def require_redis(url: str) -> None:
    """Skip the test when Redis is not reachable (fail instead under ``CI=true``)."""
    host, _, port = url.split("://", 1)[1].split("/", 1)[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=3) as conn:
            conn.sendall(b"PING\r\n")
            if not conn.recv(16).startswith(b"+PONG"):
                raise OSError("Redis did not answer PING")
    except OSError as error:
        message = f"Redis not reachable at {url}; start it or set {REDIS_ENV} to run the cluster tests"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} ({error})")
        pytest.skip(message)


@dataclass
class Node:
    """One ``helpline serve`` process of the cluster; ``restart`` keeps its port and data directory."""

    name: str
    data_dir: Path
    args: list[str]
    env: dict[str, str]
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    served: Served | None = None

    def start(self) -> Node:
        self.served = self._stack.enter_context(served(self.data_dir, *self.args, env=self.env))
        return self

    @property
    def url(self) -> str:
        assert self.served is not None
        return self.served.url

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :]

    @property
    def pid(self) -> int:
        assert self.served is not None
        return self.served.process.pid

    def output(self) -> str:
        assert self.served is not None
        return self.served.output()

    def kill9(self) -> None:
        """As a crash would: no shutdown, no flush, no goodbye to Redis or the database."""
        assert self.served is not None
        os.kill(self.served.process.pid, signal.SIGKILL)
        self.served.process.wait(timeout=10)

    def stop(self) -> str:
        assert self.served is not None
        return self.served.stop()

    def restart(self) -> Node:
        """Start again on the same port (so a load balancer's address stays right)."""
        port = self.served.port if self.served is not None else None
        self.close()
        self._stack = contextlib.ExitStack()
        if port is not None and "--port" not in self.args:
            self.args = [*self.args, "--port", str(port)]
        return self.start()

    def close(self) -> None:
        self._stack.close()


@dataclass
class Cluster:
    nodes: list[Node]
    database_url: str
    redis_url: str | None
    env: dict[str, str]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __getitem__(self, index: int) -> Node:
        return self.nodes[index]

    def cli(self, *args: str) -> Any:
        """Run a ``helpline`` command against the cluster's database, with ``--json``; its parsed answer."""
        import json
        import subprocess

        environ = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")} | self.env
        done = subprocess.run(
            [HELPLINE, *args, "--database-url", self.database_url, "--json"],
            capture_output=True,
            text=True,
            env=environ,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def cluster(
    tmp_path: Path,
    nodes: int = 2,
    redis: bool = True,
    env: dict[str, str] | None = None,
    shared_files: bool = False,
) -> Iterator[Cluster]:
    """``nodes`` ``helpline serve`` processes on one fresh PostgreSQL schema (and Redis when ``redis``)."""
    base = postgres_base_url()
    require_postgres(base)
    chosen_redis = redis_url() if redis else None
    if chosen_redis is not None:
        require_redis(chosen_redis)
    with postgres_schema(base) as database_url:
        upgrade(database_url)
        common = {
            "HELPLINE_DATABASE_URL": database_url,
            "HELPLINE_SECRET_KEY": new_key(),
            "HELPLINE_OUTBOUND_ALLOW": "127.0.0.1/32,::1/128",
            "HELPLINE_TICK_SECONDS": "0.2",
            "HELPLINE_WEBHOOK_RETRY_SCHEDULE": "0,0.2,0.4,0.8,1.6",
            "HELPLINE_WEBHOOK_TIMEOUT": "5",
        }
        if chosen_redis is not None:
            common["HELPLINE_REDIS_URL"] = chosen_redis
        if shared_files:
            shared = tmp_path / "shared-files"
            shared.mkdir()
            common["HELPLINE_FILES_DIR"] = str(shared)
        common |= env or {}
        members = [
            Node(name=chr(ord("a") + i), data_dir=tmp_path / f"node-{chr(ord('a') + i)}", args=[], env=common)
            for i in range(nodes)
        ]
        try:
            for member in members:
                member.data_dir.mkdir()
                member.start()
            yield Cluster(members, database_url, chosen_redis, common)
        finally:
            for member in members:
                with contextlib.suppress(Exception):
                    member.close()


def wait_until(predicate: Any, timeout: float = 10.0, every: float = 0.05, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"{what} not reached within {timeout} s")
