"""What Helpline needs before the load starts: an account, a department, a token and agents (via the CLI),
and, for PostgreSQL, a schema of its own that is dropped afterwards."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bench.procs import PYTHON, BenchError, run_json

HELPLINE = (PYTHON, "-m", "helpline.cli.main")


@dataclass
class HelplineFixture:
    database_url: str
    token: str
    department_id: int
    agent_keys: list[str]
    account_id: int = 0


def serve_command(port: int, database_url: str, log_level: str) -> list[str]:
    """``helpline serve`` on 127.0.0.1:``port``, exactly as a user runs it."""
    return [
        *HELPLINE,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        database_url,
        "--log-level",
        log_level,
    ]


def _cli(args: list[str], database_url: str) -> dict[str, object]:
    return run_json([*HELPLINE, *args, "--database-url", database_url, "--json"], timeout=120)


def create_fixture(database_url: str, agents: int, webhook_url: str | None = None) -> HelplineFixture:
    """Account "Bench", department "Support", one token (with ``webhook_url`` if given), ``agents`` agents
    in that department."""
    account = _cli(["account", "create", "Bench"], database_url)
    account_id = str(account["id"])
    department = _cli(["department", "create", "--account", account_id, "Support"], database_url)
    department_id = str(department["id"])
    webhook = ["--webhook-url", webhook_url] if webhook_url else []
    token = _cli(["token", "create", "--account", account_id, *webhook], database_url)
    keys = []
    for number in range(1, agents + 1):
        agent = _cli(
            [
                "agent",
                "create",
                "--account",
                account_id,
                "--name",
                f"A{number}",
                "--email",
                f"a{number}@bench.test",
                "--password",
                "secret1",
                "--department",
                department_id,
            ],
            database_url,
        )
        keys.append(str(agent["api_key"]))
    for name, value in (("token", token.get("token")), ("department id", department.get("id"))):
        if value in (None, ""):
            raise BenchError(f"the CLI gave no {name}")
    return HelplineFixture(database_url, str(token["token"]), int(department_id), keys, int(account_id))


def create_sdk_inbox(database_url: str, account_id: int, origin: str) -> str:
    """A department "Widget" open to SDK clients, its widget allowed on ``origin``; its identifier."""
    inbox = _cli(
        ["department", "create", "--account", str(account_id), "Widget", "--sdk", "--allowed-origin", origin],
        database_url,
    )
    identifier = inbox.get("sdk_identifier")
    if not identifier:
        raise BenchError(f"the CLI gave no SDK identifier: {inbox}")
    return str(identifier)


def with_search_path(url: str, schema: str) -> str:
    """The URL with ``options=-csearch_path=<schema>`` (replacing any search_path it had)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema ``bench_<random>`` on that server; yields the URL that uses it; drops it after."""
    import psycopg

    schema = f"bench_{secrets.token_hex(4)}"
    parts = urlsplit(url)
    base = urlunsplit(
        parts._replace(query=urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "options"]))
    )
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as problem:
        raise BenchError(f"cannot create schema {schema} on {base}: {problem}") from problem
    try:
        yield with_search_path(url, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
