"""Browser fixtures for the console tests: Debian's Chromium driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import os
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

from console_kit import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from store_backends import (  # noqa: E402, F401
    any_database_url,
    any_store,
    postgres_module_url,
    sqlite_template,
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module; each test opens its own contexts (separate cookies, like two people)."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) to run the console tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
