"""The jobs' tests run on each storage backend: see ``tests/store/store_backends.py``."""

from __future__ import annotations

import sys
from pathlib import Path

_store = str(Path(__file__).parents[1] / "store")
if _store not in sys.path:
    sys.path.insert(0, _store)

from store_backends import any_database_url, any_store, postgres_module_url, sqlite_template  # noqa: E402, F401
