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
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
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


MAX_JSON_DEPTH = 64
_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def check_depth(raw: bytes) -> None:
    """Refuse JSON nested past ``MAX_JSON_DEPTH``: the decoder would recurse until Python stops it.

    Bodies with few brackets cannot be that deep and skip the scan (a count at C speed), so the hot
    path pays nothing for it.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for match in _STRUCTURE.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise Invalid(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
        elif token in (b"]", b"}"):
            depth -= 1


def loads(raw: bytes, schema: Any = Any) -> Any:
    """``msgspec.json.decode`` behind the depth check: the one way request JSON is decoded.

    msgspec's own errors pass through (callers word them); a RecursionError the check did not foresee
    is refused as too deep rather than escaping as a server error.
    """
    check_depth(raw)
    try:
        return msgspec.json.decode(raw, type=schema)
    except RecursionError:
        raise Invalid(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep") from None


def decode_json(raw: bytes, schema: type[S]) -> S:
    """Decode a request body into its struct; malformed JSON or a wrong field is the caller's Invalid."""
    try:
        decoded: S = loads(raw, schema)
    except msgspec.DecodeError as bad:
        raise Invalid(describe_validation_error(bad)) from None
    return decoded


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


Authenticate = Callable[[Request], Awaitable[object]]


def guarded(
    handler: Handler, render_error: ErrorRenderer, authenticate: Authenticate | None = None
) -> Handler:
    """Turn the core's refusals and oversized bodies into the surface's own error shape.

    With ``authenticate`` (surfaces whose credential travels beside the body, in a header), a request
    refused for anything else is first checked for its credential: a stranger learns that they are not
    let in, not what the body should look like. That costs nothing on the way of a request that works.
    """

    async def refused(request: Request, status: int, message: str) -> Response:
        if authenticate is not None and status not in (401, 403):
            try:
                await authenticate(request)
            except DomainError as first:
                return render_error(first.status, first.message)
        return render_error(status, message)

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except DomainError as refusal:
            return await refused(request, refusal.status, refusal.message)
        except (BodyTooLarge, FileTooLarge) as too_large:
            return await refused(request, 413, str(too_large))

    return run
