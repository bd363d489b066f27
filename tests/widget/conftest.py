"""Browser fixtures for the widget: Debian's Chromium (as the console's tests), Helpline on one port and
the customer's website — a plain page with only the snippet — on another (a different origin)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

for folder in (Path(__file__).parent, Path(__file__).parents[1] / "console"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from console_kit import chromium  # noqa: E402
from helpline_testing import RunningServer  # noqa: E402
from widget_kit import ARTIFACTS, Site, Widgetised, make_widgetised  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(ARTIFACTS, "widget") as launched:
        yield launched


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


@pytest.fixture
def shop(server: RunningServer, site: Site) -> Widgetised:
    """An account whose department "Website" is open to SDK clients and allows the site's origin."""
    return make_widgetised(server, site)
