"""The ``external_history`` document: ``{"messages":[{"time","direction":"CLIENT"|"AGENT","content"}]}``."""

from __future__ import annotations

from typing import Any

from helpline.core.model import HistoryEntry

DIRECTIONS = {"CLIENT": "contact", "AGENT": "agent"}


def parse_history(conversation_id: int, document: Any) -> list[HistoryEntry]:
    """Validate and order the lines (the seed lists them newest first; agents read oldest first)."""
    if not isinstance(document, dict) or not isinstance(document.get("messages"), list):
        raise ValueError('expected a JSON object with a "messages" list')
    lines = []
    for index, item in enumerate(document["messages"]):
        if not isinstance(item, dict):
            raise ValueError(f"messages[{index}] is not an object")
        direction = str(item.get("direction", "")).upper()
        if direction not in DIRECTIONS:
            raise ValueError(f'messages[{index}].direction must be "CLIENT" or "AGENT"')
        content = item.get("content")
        if not isinstance(content, str):
            raise ValueError(f"messages[{index}].content must be a string")
        time = item.get("time")
        lines.append((str(time) if time is not None else "", index, DIRECTIONS[direction], content, time))
    lines.sort(key=lambda line: (line[0], -line[1]))
    return [
        HistoryEntry(
            conversation_id=conversation_id,
            position=position,
            time=str(time) if time is not None else None,
            direction=direction,
            content=content,
        )
        for position, (_, _, direction, content, time) in enumerate(lines)
    ]
