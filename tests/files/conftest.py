"""The file-store contract suite runs on every adapter: the local directory, and the database store on
each storage backend (ids ``local``, ``database-sqlite``, ``database-postgres``)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
from store_backends import _ModuleSchema, _reset, opened_store, postgres_module_url, sqlite_template  # noqa: F401

from helpline.core.files import FileStore
from helpline.files.database import DatabaseFileStore
from helpline.files.local import LocalFileStore

ADAPTERS = ("local", "database-sqlite", "database-postgres")


@pytest.fixture(params=ADAPTERS)
def file_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileStore]:
    if request.param == "local":
        yield LocalFileStore(tmp_path / "files")
        return
    if request.param == "database-sqlite":
        path = tmp_path / "helpline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        schema: _ModuleSchema = request.getfixturevalue("postgres_module_url")
        _reset(schema.url, schema.baseline)
        url = schema.url
    with opened_store(url, migrate=False) as store:
        # A small chunk size, so that the tests' files span several chunks.
        yield DatabaseFileStore(store, chunk_bytes=1000)
