"""Fixtures for the core unit tests: an in-memory store (``fake_store``) and a builder over it (``world``).

``fakes.py`` is loaded under the unique module name ``core_fakes`` so that it cannot clash with another
directory's helper module of the same basename (there are no ``__init__.py`` files under ``tests/``).
Test modules import it with ``from core_fakes import ...``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


def _load_fakes() -> None:
    if "core_fakes" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("core_fakes", Path(__file__).with_name("fakes.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["core_fakes"] = module
    spec.loader.exec_module(module)


_load_fakes()

from core_fakes import FakeStore, World  # noqa: E402


@pytest.fixture
def fake_store() -> FakeStore:
    """An empty in-memory store whose clock stands at 1000.0 until the test moves it."""
    return FakeStore(now=1_000.0)


@pytest.fixture
def world(fake_store: FakeStore) -> World:
    """One account ("Acme") in ``fake_store``, with helpers to add departments, agents and conversations."""
    return World(fake_store)
