"""One way in for every request: the fields of a JSON, URL-encoded or multipart body, over the query string.

The seed lists some fields as "path parameters"; clients following it literally put them in the query
string, so those count too (the body wins where both carry a field). Blank values count as missing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from helpline.core.errors import Invalid
from helpline.web.http import describe_validation_error, loads, read_body

S = TypeVar("S", bound=msgspec.Struct)
TOKEN_HEADER = "apikey"  # noqa: S105 -- a header's name: the vendor's apiKey, here a chatAccountToken
MAX_FIELDS = 100


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _once(raw: bytes) -> AsyncGenerator[bytes, None]:
    yield raw


async def _multipart_text(headers: Headers, raw: bytes) -> dict[str, str]:
    parser = MultiPartParser(headers, _once(raw), max_files=1, max_fields=MAX_FIELDS)
    try:
        form = await parser.parse()
    except MultiPartException as bad:
        raise Invalid(f"malformed multipart body: {bad.message}") from None
    try:
        return text_fields(form, refuse_files=True)
    finally:
        await form.close()


def text_fields(form: FormData, refuse_files: bool = False) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            found[name] = value
        elif refuse_files:
            raise Invalid(f"unexpected file in the field {name!r}: send files to /api/v2/chat/addAttachment")
    return found


async def read_fields(request: Request, limit: int) -> dict[str, Any]:
    """The request's fields: the query string, then the body (JSON, form or multipart) over it."""
    fields: dict[str, Any] = dict(request.query_params)
    if request.method in ("GET", "HEAD"):
        return fields
    raw = await read_body(request, limit)
    media = media_type(request)
    if media == "multipart/form-data":
        fields.update(await _multipart_text(request.headers, raw))
    elif media == "application/x-www-form-urlencoded":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("the form body is not UTF-8") from None
        try:
            fields.update(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS))
        except ValueError as bad:
            raise Invalid(f"malformed form body: {bad}") from None
    elif raw.strip():
        try:
            decoded = loads(raw)
        except msgspec.DecodeError:
            raise Invalid(
                "send the fields as JSON, application/x-www-form-urlencoded or multipart/form-data"
                f" (the body is {media or 'untyped'} and not valid JSON)"
            ) from None
        if not isinstance(decoded, dict):
            raise Invalid("the JSON body must be an object of fields")
        fields.update(decoded)
    return fields


def convert(
    fields: Mapping[str, Any],
    schema: type[S],
    headers: Mapping[str, str] | None = None,
    aliases: Iterable[tuple[str, str]] = (),
) -> S:
    """Check what is required is there (saying which are missing), then convert the rest by type.

    ``aliases``: ``(name, other)`` pairs where ``other`` stands in for a missing ``name``
    (``sessionID`` and ``chatSessionID`` name the same thing on different endpoints).
    """
    present = {
        name: value
        for name, value in fields.items()
        if value is not None and not (isinstance(value, str) and not value.strip())
    }
    for name, other in aliases:
        if name not in present and other in present:
            present[name] = present[other]
    token = (headers or {}).get(TOKEN_HEADER)
    if "chatAccountToken" not in present and token:
        present["chatAccountToken"] = token
    wanted = msgspec.structs.fields(schema)
    missing = [f.encode_name for f in wanted if f.required and f.encode_name not in present]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise Invalid(f"{', '.join(missing)} {verb} required")
    known = {f.encode_name for f in wanted}
    try:
        return msgspec.convert({k: v for k, v in present.items() if k in known}, schema, strict=False)
    except msgspec.ValidationError as bad:
        raise Invalid(describe_validation_error(bad)) from None
