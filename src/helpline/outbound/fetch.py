"""Fetching a JSON document someone pointed us at (Omnize's ``external_history``), through the guard."""

from __future__ import annotations

import json
import re
from typing import Any

from helpline.outbound.guard import OutboundRefused
from helpline.outbound.http import BadStatus, OutboundFailed, OutboundHttp, OutboundTimeout, ResponseTooLarge

_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class FetchFailed(Exception):
    """Why the document could not be had, in words an operator or integrator can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def with_scheme(url: str) -> str:
    """``chathistory.example.org/x`` → ``https://chathistory.example.org/x``; URLs with a scheme stay."""
    url = url.strip()
    if url.startswith("//"):
        return "https:" + url
    return url if _HAS_SCHEME.match(url) else "https://" + url


async def fetch_json(
    http: OutboundHttp,
    url: str,
    max_bytes: int,
    timeout: float,  # noqa: ASYNC109 -- a total deadline, passed on to OutboundHttp.get
) -> Any:
    """GET ``url`` (https assumed without a scheme) and parse it as JSON, or raise :class:`FetchFailed`."""
    if not url or not url.strip():
        raise FetchFailed("no URL to fetch")
    target = with_scheme(url)
    try:
        data = await http.get(target, max_bytes, timeout, headers={"accept": "application/json"})
    except OutboundRefused as error:
        raise FetchFailed(f"fetching {target} was refused: {error.message}") from None
    except OutboundTimeout:
        raise FetchFailed(f"fetching {target} timed out after {timeout:g} s") from None
    except ResponseTooLarge:
        raise FetchFailed(f"the document at {target} is larger than the {max_bytes}-byte limit") from None
    except BadStatus as error:
        raise FetchFailed(f"fetching {target} failed: the server {error.message}") from None
    except OutboundFailed as error:
        raise FetchFailed(f"fetching {target} failed: {error.message}") from None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise FetchFailed(f"the document at {target} is not JSON ({error})") from None
