"""The storage contract suite runs every test on each backend: see ``store_backends.py``."""

from __future__ import annotations

import sys
from pathlib import Path

_here = str(Path(__file__).parent)
if _here not in sys.path:
    sys.path.insert(0, _here)

from store_backends import (  # noqa: E402, F401
    any_database_url,
    any_store,
    postgres_module_url,
    sqlite_store,
    sqlite_template,
)
