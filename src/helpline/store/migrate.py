"""Run the one migration history on SQLite or PostgreSQL (Alembic, with SQLAlchemy used only here).

Every command and every server start migrates first; when the database is already at the newest
revision (the usual case) that is one small query, and Alembic is not even imported: it costs half a
second of start-up, which an operator typing CLI commands feels.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r'^revision = "([^"]+)"', re.MULTILINE)
_DOWN = re.compile(r'^down_revision = (?:"([^"]+)"|None)', re.MULTILINE)


def sqlalchemy_url(database_url: str) -> str:
    if database_url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return database_url


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision of the migration history, as Alembic reads it from the scripts."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_config()).get_current_head())


def scripted_head() -> str:
    """The same, read with two regular expressions: the revision no other script names as its parent."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found:
            revisions.add(found.group(1))
            parent = _DOWN.search(text)
            if parent and parent.group(1):
                parents.add(parent.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migration history must have one head, found {sorted(heads)}")
    return heads.pop()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or None for a new database."""
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///") :]
        if not Path(path).exists():
            return None
        conn = sqlite3.connect(path)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
        finally:
            conn.close()
        return str(row[0]) if row else None
    import psycopg

    with psycopg.connect(database_url) as pg:
        try:
            row = pg.execute("SELECT version_num FROM alembic_version").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return str(row[0]) if row else None


def upgrade(database_url: str) -> None:
    if current_revision(database_url) == scripted_head():
        return
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
