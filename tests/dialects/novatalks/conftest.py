"""Fixtures for the Novatalks SDK tests (helpers live in ``novatalks_kit.py``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_here = str(Path(__file__).parent)
if _here not in sys.path:
    sys.path.insert(0, _here)

from helpline_testing import RunningServer, start_server  # noqa: E402
from novatalks_kit import SdkWorld, make_world  # noqa: E402


@pytest.fixture
def sdk_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server whose SDK websocket sends keepalives every 0.3 s and drops clients silent for 30 s."""
    with start_server(tmp_path, sdk_keepalive_seconds=0.3, sdk_idle_timeout_seconds=30.0) as running:
        yield running


@pytest.fixture
def world(sdk_server: RunningServer) -> SdkWorld:
    """An account with one department open to SDK clients (the server's only inbox) and its agent."""
    return make_world(sdk_server)
