"""Running the installed ``helpline`` console script as an operator would, for the CLI tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

# The installed console script, found beside the interpreter when the virtualenv is not activated.
HELPLINE = shutil.which("helpline") or str(Path(sys.executable).with_name("helpline"))


def helpline(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one command against the SQLite database in ``data_dir``, ignoring the caller's HELPLINE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    return subprocess.run(
        [HELPLINE, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def as_json(data_dir: Path, *args: str) -> dict[str, Any]:
    """Run with ``--json``: it must succeed and print exactly one JSON object."""
    done = helpline(data_dir, *args, "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    parsed: dict[str, Any] = json.loads(lines[0])
    return parsed
