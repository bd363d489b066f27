"""The cluster tests start real ``helpline serve`` processes: see ``tests/support/cluster.py``."""

from __future__ import annotations

import sys
from pathlib import Path

for folder in ("support", "store"):
    path = str(Path(__file__).parents[1] / folder)
    if path not in sys.path:
        sys.path.insert(0, path)
