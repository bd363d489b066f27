"""Interactive messages: a card (image, link and postback buttons), a quick reply, a feedback question.

An agent or a bot sends one with ``content`` as its title and ``content_attributes`` holding its options:

- ``card``: optional ``image_url``; ``buttons``, each ``{"type": "link", "title", "url"}`` (the client opens
  the URL) or ``{"type": "postback", "title", "value"}`` (choosing it answers);
- ``quick_reply``: optional ``image_url``; ``buttons``, each ``{"title", "value"}``;
- ``feedback``: no options; the contact answers with a rating or a text.

The contact's choice is the message's ``selected_value`` (see :mod:`helpline.core.message_actions`). An API
that cannot show such a message gets :func:`fallback_text`: the title and the options, numbered.
"""

from __future__ import annotations

from typing import Any

from helpline.core.errors import Invalid
from helpline.core.model import JsonObject, MessageKind

INTERACTIVE = frozenset({MessageKind.CARD, MessageKind.QUICK_REPLY, MessageKind.FEEDBACK})
MAX_BUTTONS = 20
MAX_TITLE = 200
MAX_VALUE = 1000
_ALLOWED_KEYS = {
    MessageKind.CARD: {"image_url", "buttons", "selected_value"},
    MessageKind.QUICK_REPLY: {"image_url", "buttons", "selected_value"},
    MessageKind.FEEDBACK: {"selected_value"},
}


def is_interactive(kind: MessageKind | str) -> bool:
    return kind in INTERACTIVE


def _text(value: Any, label: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{label} must be a non-empty string")
    if len(value) > limit:
        raise Invalid(f"{label} must be at most {limit} characters")
    return value


def _url(value: Any, label: str) -> str:
    text = _text(value, label, 2000)
    if not text.startswith(("http://", "https://")):
        raise Invalid(f"{label} must be an http(s) URL (got {text!r})")
    return text


def _button(kind: MessageKind, index: int, raw: Any) -> JsonObject:
    label = f"content_attributes.buttons[{index}]"
    if not isinstance(raw, dict):
        raise Invalid(f"{label} must be an object")
    title = _text(raw.get("title"), f"{label}.title", MAX_TITLE)
    if kind is MessageKind.QUICK_REPLY:
        if raw.get("type", "postback") != "postback":
            raise Invalid(f"{label}.type of a quick reply can only be postback")
        unknown = set(raw) - {"title", "value", "type"}
        if unknown:
            raise Invalid(f"{label} has unknown fields: {', '.join(sorted(unknown))}")
        return {"title": title, "value": _text(raw.get("value"), f"{label}.value", MAX_VALUE)}
    button_type = raw.get("type")
    if button_type == "link":
        unknown = set(raw) - {"title", "url", "type"}
        if unknown:
            raise Invalid(f"{label} (a link) has unknown fields: {', '.join(sorted(unknown))}")
        return {"type": "link", "title": title, "url": _url(raw.get("url"), f"{label}.url")}
    if button_type == "postback":
        unknown = set(raw) - {"title", "value", "type"}
        if unknown:
            raise Invalid(f"{label} (a postback) has unknown fields: {', '.join(sorted(unknown))}")
        return {
            "type": "postback",
            "title": title,
            "value": _text(raw.get("value"), f"{label}.value", MAX_VALUE),
        }
    raise Invalid(f"{label}.type must be link or postback (got {button_type!r})")


def normalize(kind: MessageKind, content: str, attributes: JsonObject | None) -> JsonObject:
    """Check an interactive message's options and return them in their stored form; ``{}`` otherwise."""
    attributes = attributes or {}
    if not isinstance(attributes, dict):
        raise Invalid("content_attributes must be an object")
    if kind not in INTERACTIVE:
        if attributes:
            raise Invalid("content_attributes are only for card, quick_reply and feedback messages")
        return {}
    if not content.strip():
        raise Invalid(f"a {kind.value} message needs content (its title or question)")
    unknown = set(attributes) - _ALLOWED_KEYS[kind]
    if unknown:
        raise Invalid(f"content_attributes of a {kind.value} cannot have {', '.join(sorted(unknown))}")
    if attributes.get("selected_value") is not None:
        raise Invalid("selected_value is set by the contact's choice, not by the sender")
    stored: JsonObject = {}
    if kind is MessageKind.FEEDBACK:
        return stored
    if attributes.get("image_url") is not None:
        stored["image_url"] = _url(attributes["image_url"], "content_attributes.image_url")
    buttons = attributes.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise Invalid(f"a {kind.value} needs content_attributes.buttons: a list of at least one button")
    if len(buttons) > MAX_BUTTONS:
        raise Invalid(f"a {kind.value} can have at most {MAX_BUTTONS} buttons")
    stored["buttons"] = [_button(kind, index, raw) for index, raw in enumerate(buttons)]
    values = [b["value"] for b in stored["buttons"] if "value" in b]
    if len(values) != len(set(values)):
        raise Invalid("two buttons of one message cannot have the same value")
    return stored


def option_for(kind: MessageKind, attributes: JsonObject, value: str) -> JsonObject | None:
    """The button a contact's ``value`` chooses (a postback or quick reply), or None."""
    for button in attributes.get("buttons", []):
        if button.get("value") == value and button.get("type", "postback") == "postback":
            return dict(button)
    return None


def choices(attributes: JsonObject) -> list[str]:
    """The values a contact may choose, for error messages."""
    return [b["value"] for b in attributes.get("buttons", []) if b.get("type", "postback") == "postback"]


def fallback_text(kind: MessageKind | str, content: str, attributes: JsonObject) -> str:
    """The message as plain text: title, image URL, numbered options (link buttons with their URL)."""
    if not is_interactive(kind):
        return content
    lines = [content]
    if attributes.get("image_url"):
        lines.append(str(attributes["image_url"]))
    for number, button in enumerate(attributes.get("buttons", []), start=1):
        line = f"{number}. {button['title']}"
        if button.get("type") == "link":
            line += f": {button['url']}"
        lines.append(line)
    return "\n".join(lines)


def plain_message(view: JsonObject) -> JsonObject:
    """A message view (:func:`helpline.core.serialize.message_view`) as an API without interactive
    messages should relay it: a text message whose content is :func:`fallback_text`."""
    if not is_interactive(view.get("type", "")):
        return view
    return view | {
        "type": MessageKind.TEXT.value,
        "content": fallback_text(
            view["type"], view.get("content") or "", view.get("content_attributes") or {}
        ),
    }
