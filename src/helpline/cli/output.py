"""Printing for the CLI: exactly one JSON object with ``--json``, a readable line per record otherwise."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(payload: dict[str, Any], as_json: bool, human: str | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    sys.stdout.write((human if human is not None else _pretty(payload)) + "\n")


def _pretty(payload: dict[str, Any]) -> str:
    lines = []
    for key, value in payload.items():
        if isinstance(value, list) and not all(isinstance(item, dict) for item in value):
            lines.append(f"{key}: {', '.join(str(item) for item in value)}")
        elif isinstance(value, list):
            lines.append(f"{key}: {len(value)}")
            for item in value:
                lines.append("  " + "  ".join(f"{k}={_short(v)}" for k, v in item.items()))
        else:
            lines.append(f"{key}: {_short(value)}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# Set by ``main`` when the command line has ``--json``: an error is then one JSON object too,
# ``{"error": "..."}``, on stderr (stdout stays the result's alone; the exit status says which it was).
json_errors = False


def fail(message: str, code: int = 1, **more: Any) -> int:
    if json_errors:
        sys.stderr.write(json.dumps({"error": message, **more}, ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(f"helpline: error: {message}\n")
    return code
