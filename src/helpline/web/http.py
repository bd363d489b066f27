"""Small helpers the API surfaces share; each surface keeps its own error shape."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from helpline.core.errors import DomainError, Invalid
from helpline.core.files import FileTooLarge

Handler = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[int, str], Response]


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit} bytes")
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing past ``limit`` bytes while streaming, not after buffering it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(payload), status_code=status, media_type="application/json", headers=headers
    )


S = TypeVar("S")


def decode_json(raw: bytes, schema: type[S]) -> S:
    """Decode a request body into its struct; malformed JSON or a wrong field is the caller's Invalid."""
    try:
        return msgspec.json.decode(raw, type=schema)
    except msgspec.DecodeError as bad:
        raise Invalid(describe_validation_error(bad)) from None


def describe_validation_error(error: msgspec.ValidationError | msgspec.DecodeError) -> str:
    """msgspec says "Expected `int`, got `str` - at `$.department_id`"; make it read for a person."""
    text = str(error)
    if isinstance(error, msgspec.DecodeError) and not isinstance(error, msgspec.ValidationError):
        return f"malformed JSON body: {text}"
    return text.replace("`", "").replace(" - at $.", " at ").replace("$.", "")


def reword(message: str, words: Mapping[str, str]) -> str:
    """The core's message in a vendor's vocabulary: each whole word of ``words`` replaced by its value.

    The core says "conversation" (and never a vendor's word); a dialect whose API says "interaction"
    renders the core's refusals through this, so its callers read the texts the vendor's API gives."""
    if not words:
        return message
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b")
    return pattern.sub(lambda found: words[found.group(1)], message)


def guarded(handler: Handler, render_error: ErrorRenderer) -> Handler:
    """Turn the core's refusals and oversized bodies into the surface's own error shape."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except DomainError as refusal:
            return render_error(refusal.status, refusal.message)
        except (BodyTooLarge, FileTooLarge) as too_large:
            return render_error(413, str(too_large))

    return run
