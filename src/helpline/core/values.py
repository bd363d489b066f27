"""The one reading of ids, numbers and URLs that callers send, for every API surface.

Python's own readings are wider than what the rest of Helpline can hold: ``'¹'.isdigit()`` is true but
``int('¹')`` raises, ``int('9' * 30)`` is a number no database column takes, and ``urlsplit('http://[x')``
raises. Each surface reads its callers' values through here, so a bad one is an :class:`Invalid` that
names the field (each surface renders it in its own shape) instead of an exception deep in a handler.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from helpline.core.errors import Invalid

MAX_ID = 2**63 - 1  # a signed 64-bit column: SQLite's INTEGER, PostgreSQL's BIGINT
MIN_INT = -(2**63)
_MAX_DIGITS = len(str(MAX_ID))


def is_id(text: str) -> bool:
    """Whether ``text`` is an id as stored: ASCII digits only, within the signed 64-bit range."""
    return 0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit() and int(text) <= MAX_ID


def parse_id(raw: str | int, field: str, wanted: str = "a number") -> int:
    """An id given as a number or as text (``12``, ``"12"``); anything else is Invalid naming ``field``."""
    if isinstance(raw, bool):
        raise Invalid(f"{field} must be {wanted} (got {raw!r})")
    if isinstance(raw, int):
        if not 0 <= raw <= MAX_ID:
            raise Invalid(f"{field} must be a number from 0 to {MAX_ID} (got {raw})")
        return raw
    text = raw.strip()
    if not is_id(text):
        if text.isascii() and text.isdigit():
            raise Invalid(f"{field} must be a number from 0 to {MAX_ID} (got {_shown(raw)})")
        raise Invalid(f"{field} must be {wanted} (got {_shown(raw)})")
    return int(text)


def parse_number(raw: str, field: str, low: int = 0, high: int = MAX_ID) -> int:
    """A whole number from a query string or form field, within ``low``..``high``."""
    text = raw.strip()
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not (0 < len(digits) <= _MAX_DIGITS and digits.isascii() and digits.isdigit()):
        raise Invalid(f"{field} must be a number (got {_shown(raw)})")
    value = -int(digits) if negative else int(digits)
    if not low <= value <= high:
        limits = f"at least {low}" if high == MAX_ID else f"from {low} to {high}"
        raise Invalid(f"{field} must be {limits} (got {value})")
    return value


def parse_url(raw: str, field: str, schemes: tuple[str, ...] = ("http", "https")) -> SplitResult:
    """A URL with one of ``schemes`` and a host; its port, if any, must be a port.

    ``urlsplit`` raises on a bracket that does not close (``http://[x``) and ``.port`` on a port past
    65535: both are the caller's mistake, said as such.
    """
    try:
        parts = urlsplit(raw.strip())
        parts.port  # noqa: B018 -- read for its check: a bad port raises here, not later
    except ValueError as bad:
        raise Invalid(f"{field} is not a valid URL ({bad}; got {_shown(raw)})") from None
    if parts.scheme not in schemes or not parts.hostname:
        wanted = "http(s)" if schemes == ("http", "https") else "/".join(schemes)
        raise Invalid(f"{field} must be an {wanted} URL (got {_shown(raw)})")
    return parts


def _shown(raw: object, limit: int = 80) -> str:
    text = repr(raw)
    return text if len(text) <= limit else text[: limit - 3] + "..."
