"""The widget's state machine (``static/state.js``) under ``node --test``: no browser needed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_the_state_machine_passes_its_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "node is missing: install Debian's nodejs (.ci/run does) to run the widget's unit tests"
            )
        pytest.skip("node is missing")
    done = subprocess.run(
        [node, "--test", str(HERE / "state.test.mjs")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# pass 8" in done.stdout, done.stdout
