"""The chat widget's configuration per account (every key of the seed's ``requestChatConfig`` example) and
the ``instructions`` that go with it.

Operators change keys with ``helpline chat-config set``; what they never set keeps its default. Two more
switches, not part of ``config`` itself, add the seed's other instructions: ``ask_phone_number`` (the
``phoneNumber`` instruction) and ``show_team`` (the pictures of the department's agents online).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from helpline.core.errors import Invalid
from helpline.core.model import Agent
from helpline.core.values import parse_url

DEFAULTS: dict[str, str | None] = {
    "chat_logo": "",
    "header_color": "#18e2ae",
    "chat_logo_height": "30",
    "chat_logo_width": "100",
    "chat_background_color": "#e5e5e5",
    "chat_message_customer_color": "#ffffff",
    "chat_message_customer_text_color": "#000000",
    "chat_message_agent_color": "#18e2ae",
    "chat_message_agent_text_color": "#000000",
    "chat_textarea_placeholder": "Type your question and press enter",
    "chat_introduction_html": "",
    "label_provide_email_address": "Please provide your mail address",
    "label_provide_phone_number": "Please provide your phone number",
    "placeholder_email_address": "name@domain.com",
    "placeholder_telephone_number": "0612345678",
    "start_button_color": "#232541",
    "start_chat_instructions": "Welcome! Type your question; someone from our customer service will be with you shortly.",
    "session_timeout_warning": "notice: due to inactivity this session will soon close",
    "session_timeout_message": "session closed, refresh window to start a new chat",
    "file_uploaded_text": "File uploaded.",
    "agent_typing_text": "Agent typing..",
    "show_survey_after_chat": None,
}
SWITCHES: dict[str, bool] = {"ask_phone_number": False, "show_team": False}
KEYS = (*DEFAULTS, *SWITCHES)

_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_PIXELS = re.compile(r"^[0-9]{1,4}$")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
MAX_TEXT = 5000


def _value(key: str, raw: str) -> str | bool | None:
    if key in SWITCHES:
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise Invalid(f"{key} is a switch: use true or false (got {raw!r})")
    if key.endswith("_color"):
        if not _COLOR.match(raw.strip()):
            raise Invalid(f"{key} must be a colour such as #18e2ae (got {raw!r})")
        return raw.strip()
    if key in ("chat_logo_height", "chat_logo_width"):
        if not _PIXELS.match(raw.strip()):
            raise Invalid(f"{key} must be a number of pixels (got {raw!r})")
        return raw.strip()
    if key == "chat_logo":
        logo = raw.strip()
        if logo:
            parse_url(logo, "chat_logo")
        return logo
    if key == "show_survey_after_chat":
        survey = raw.strip()
        return None if survey in ("", "null", "none") else survey
    if len(raw) > MAX_TEXT:
        raise Invalid(f"{key} is longer than {MAX_TEXT} characters")
    return raw


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` words (as the CLI takes them) → ``{key: raw value}``."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise Invalid(f"expected KEY=VALUE, got {pair!r}")
        found[key.strip()] = value
    return found


def updated(stored: Mapping[str, Any], changes: Mapping[str, str]) -> dict[str, Any]:
    """What to store after ``changes`` (raw text values), each checked; unknown keys are refused."""
    unknown = sorted(set(changes) - set(KEYS))
    if unknown:
        raise Invalid(f"unknown chat configuration key {', '.join(unknown)}; the keys are: {', '.join(KEYS)}")
    merged = {key: value for key, value in stored.items() if key in KEYS}
    for key, raw in changes.items():
        merged[key] = _value(key, raw)
    return merged


def effective(stored: Mapping[str, Any]) -> tuple[dict[str, str | None], dict[str, bool]]:
    """``(config, switches)``: the defaults with what the operator set over them, in the seed's order."""
    config = {key: stored.get(key, default) for key, default in DEFAULTS.items()}
    switches = {key: bool(stored.get(key, default)) for key, default in SWITCHES.items()}
    return config, switches


def instructions(
    switches: Mapping[str, bool], hide_when_offline: bool, online: Sequence[Agent]
) -> list[dict[str, Any]]:
    """The seed's instructions: hide the chat exactly when the token says so and nobody is online."""
    found: list[dict[str, Any]] = []
    if hide_when_offline and not online:
        found.append({"type": "hide_reason_no_agents_available"})
    if switches.get("ask_phone_number"):
        found.append({"type": "phoneNumber", "key": "phoneNumber"})
    if switches.get("show_team"):
        found.append(
            {"type": "show_team", "team_profile_pictures": [a.photo_url for a in online if a.photo_url]}
        )
    return found
