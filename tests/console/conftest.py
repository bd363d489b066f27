"""Browser fixtures for the console tests: Debian's Chromium driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_here = str(Path(__file__).parent)
if _here not in sys.path:
    sys.path.insert(0, _here)

_store = str(Path(__file__).parents[1] / "store")
if _store not in sys.path:
    sys.path.insert(0, _store)

from console_kit import ARTIFACTS, chromium  # noqa: E402
from store_backends import (  # noqa: E402, F401
    any_database_url,
    any_store,
    postgres_module_url,
    sqlite_template,
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module; each test opens its own contexts (separate cookies, like two people)."""
    with chromium(ARTIFACTS, "console") as launched:
        yield launched
