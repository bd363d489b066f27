"""The web widget of an SDK inbox: which sites may embed it, and what it shows.

A browser page calls the SDK API from its own origin; the server answers it (CORS, the websocket
handshake) only where the inbox's operator listed that origin. ``*`` admits every site, and only when the
operator says so. The greeting, colour and pre-chat form are what ``GET /api/v1/sdk/settings`` hands the
widget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

from helpline.core.errors import Invalid, NotFound
from helpline.core.inboxes import InboxUnitOfWork

ANY_ORIGIN = "*"
PRECHAT = ("none", "name", "email")  # ask nothing; ask the name; ask the name and the email
MAX_GREETING = 500
MAX_ORIGINS = 50
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HOST = re.compile(r"^[a-z0-9.-]+$|^[0-9a-f:.]+$")


@dataclass(slots=True)
class WidgetSettings:
    department_id: int
    allowed_origins: list[str] = field(default_factory=list)
    greeting: str | None = None
    color: str | None = None
    prechat: str = "none"

    def allows(self, origin: str | None) -> bool:
        """Whether a page served from ``origin`` may use this inbox from a browser."""
        if not origin:
            return False
        return ANY_ORIGIN in self.allowed_origins or origin.lower() in self.allowed_origins


class WidgetSettingsRepository(Protocol):
    def get(self, department_id: int) -> WidgetSettings | None: ...
    def put(self, settings: WidgetSettings, now: float) -> None: ...
    def all(self) -> list[WidgetSettings]: ...


class WidgetUnitOfWork(InboxUnitOfWork, Protocol):
    @property
    def widget(self) -> WidgetSettingsRepository: ...


def normalise_origin(raw: str) -> str:
    """``https://Shop.Example/`` → ``https://shop.example``; a browser's ``Origin`` has exactly this form."""
    text = raw.strip()
    if text == ANY_ORIGIN:
        return ANY_ORIGIN
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or not _HOST.match(host):
        raise Invalid(f"an allowed origin is scheme://host[:port] or * (got {raw!r})")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise Invalid(f"an allowed origin has no path, query or user (got {raw!r})")
    try:
        port = parts.port
    except ValueError:
        raise Invalid(f"an allowed origin has a bad port (got {raw!r})") from None
    default = {"http": 80, "https": 443}[parts.scheme]
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + (f":{port}" if port is not None and port != default else "")


def settings_of(uow: WidgetUnitOfWork, department_id: int) -> WidgetSettings:
    """The widget settings of an inbox (defaults where an operator never set them)."""
    if uow.sdk.inboxes.get(department_id) is None:
        raise NotFound(f"department {department_id} does not exist")
    return uow.widget.get(department_id) or WidgetSettings(department_id)


def configure(
    uow: WidgetUnitOfWork,
    department_id: int,
    *,
    add_origins: list[str] | None = None,
    remove_origins: list[str] | None = None,
    origins: list[str] | None = None,
    greeting: str | None = None,
    color: str | None = None,
    prechat: str | None = None,
) -> WidgetSettings:
    """Change what is given (``origins`` replaces the list; ``add``/``remove`` edit it); "" clears a text."""
    current = settings_of(uow, department_id)
    listed = list(current.allowed_origins) if origins is None else []
    for raw in origins or []:
        if (clean := normalise_origin(raw)) not in listed:
            listed.append(clean)
    for raw in add_origins or []:
        if (clean := normalise_origin(raw)) not in listed:
            listed.append(clean)
    dropped = {normalise_origin(raw) for raw in remove_origins or []}
    listed = [o for o in listed if o not in dropped]
    if len(listed) > MAX_ORIGINS:
        raise Invalid(f"at most {MAX_ORIGINS} allowed origins per inbox")
    changed = replace(current, allowed_origins=listed)
    if greeting is not None:
        text = greeting.strip()
        if len(text) > MAX_GREETING:
            raise Invalid(f"the greeting must be at most {MAX_GREETING} characters")
        changed.greeting = text or None
    if color is not None:
        if color and not _COLOR.match(color.strip()):
            raise Invalid(f"the colour is #rrggbb (got {color!r})")
        changed.color = color.strip().lower() or None
    if prechat is not None:
        if prechat not in PRECHAT:
            raise Invalid(f"the pre-chat form is one of {', '.join(PRECHAT)} (got {prechat!r})")
        changed.prechat = prechat
    uow.widget.put(changed, uow.now)
    return changed


def origin_allowed_anywhere(uow: WidgetUnitOfWork, origin: str) -> bool:
    """Whether any open inbox admits ``origin`` (a preflight that names no inbox)."""
    enabled = {inbox.department_id for inbox in uow.sdk.inboxes.enabled()}
    return any(s.department_id in enabled and s.allows(origin) for s in uow.widget.all())


def view(settings: WidgetSettings) -> dict[str, object]:
    return {
        "allowed_origins": settings.allowed_origins,
        "greeting": settings.greeting,
        "color": settings.color,
        "prechat": settings.prechat,
    }


def public_view(settings: WidgetSettings | None) -> dict[str, object]:
    """What a page's widget is told (not which other sites may embed it)."""
    found = settings or WidgetSettings(0)
    return {"greeting": found.greeting, "color": found.color, "prechat": found.prechat}
