"""Opening an SQLite connection the way the backend uses it (WAL, savepoint journal in memory), and telling
a busy database from other errors."""

from __future__ import annotations

import sqlite3

BUSY_GIVE_UP_SECONDS = 30.0  # as the connections' busy_timeout


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not an SQLite URL: {url}")
    return url[len("sqlite:///") :]


def connect(path: str, synchronous: str = "NORMAL") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_GIVE_UP_SECONDS * 1000)}")
    # Savepoints keep each page's first image in a statement journal; in a temporary file that costs
    # a write per page once a group commit passes 64 KiB. In memory it is a copy.
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def checkpointer_busy() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked (the checkpointer is restarting the WAL)")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return error


def is_busy(error: sqlite3.OperationalError) -> bool:
    """Busy or locked, in any of their extended forms (SQLITE_BUSY_RECOVERY while another connection
    rebuilds the WAL index, SQLITE_BUSY_SNAPSHOT, ...): the primary code is the low byte."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
