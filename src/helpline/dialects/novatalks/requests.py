"""Reading the SDK's requests and answering in its shapes: the contact's token, query numbers, the
body (forgiving the vendor's trailing commas) and the error body ``{"statusCode", "message", "error"}``."""

from __future__ import annotations

from http import HTTPStatus
from typing import TypeVar

import msgspec
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from helpline.core import channel
from helpline.core.channel import ContactToken
from helpline.core.errors import Invalid, NotFound, Unauthorized
from helpline.core.model import JsonObject
from helpline.core.values import MAX_ID, is_id, parse_number
from helpline.dialects.novatalks.schema import MessageIn
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.http import decode_json, describe_validation_error, json_response, loads, read_body
from helpline.web.surface import ApiSurface

MAX_ECHO_ID = 255
S = TypeVar("S", bound=msgspec.Struct)


def error(status: int, message: str) -> Response:
    if status == 422:  # the vendor answers every refused request body with 400 Bad Request
        status = 400
    return json_response(
        {"statusCode": status, "message": message, "error": HTTPStatus(status).phrase}, status
    )


def done() -> Response:
    """The vendor answers these calls 200 with no body."""
    return Response(status_code=200)


def without_trailing_commas(raw: bytes) -> bytes | None:
    """``raw`` without commas that close an object or array (outside strings); None if it has none."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    out: list[str] = []
    in_string = escaped = changed = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            out.append(char)
            continue
        if char == '"':
            in_string = True
        elif char == ",":
            rest = text[index + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                changed = True
                continue
        out.append(char)
    return "".join(out).encode() if changed else None


def secret_of(request: Request) -> str | None:
    return (
        request.headers.get("access_token")
        or request.headers.get("access-token")
        or request.query_params.get("access_token")
    )


def query_number(request: Request, name: str, low: int = 0, high: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    whole, dot, fraction = raw.partition(".")
    if dot and fraction.isascii() and fraction.isdigit():  # the vendor's clients send 20.0 at times
        raw = whole
    return parse_number(raw, name, low, MAX_ID if high is None else high)


def path_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not is_id(raw):
        raise NotFound(f"message {raw} not found")
    return int(raw)


def authorised(uow: UnitOfWork, secret: str | None) -> ContactToken:
    """The contact behind a pubsub token, while its inbox is still open to SDK clients (the core's
    refusals in the vendor's words)."""
    if not secret:
        raise Unauthorized("send the contact's pubsub token in the access_token header")
    try:
        token = channel.token_by_secret(uow, secret)
    except Unauthorized:
        raise Unauthorized("invalid access_token") from None
    inbox = uow.sdk.inboxes.get(token.department_id)
    if inbox is None or not inbox.enabled:
        raise Unauthorized("the inbox of this access_token is no longer open to SDK clients")
    return token


def contact_attributes(custom: JsonObject | None, additional: JsonObject | None) -> JsonObject:
    """How a Novatalks contact keeps the attributes its client sent."""
    return {"custom_attributes": custom or {}, "additional_attributes": additional or {}}


def parse_echo_id(raw: str | int | None) -> str | None:
    """The client's ``echo_id``, optional as in the vendor's schema: with it, a resend adds nothing."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    echo = str(raw).strip()
    if len(echo) > MAX_ECHO_ID:
        raise Invalid(f"message.echo_id must be at most {MAX_ECHO_ID} characters")
    return echo


def multipart_files(form: FormData) -> list[UploadFile]:
    uploads: list[UploadFile] = []
    for field in ("attachments[]", "attachments"):
        for item in form.getlist(field):
            if not isinstance(item, UploadFile):
                raise Invalid(f"{field} must carry files, not text")
            uploads.append(item)
    return uploads


def multipart_message(form: FormData) -> tuple[str | None, str | int | None]:
    """``content`` and ``echo_id`` of a multipart message, in either encoding clients use.

    SDKs written by hand send bracket fields (``message[content]``, ``message[echo_id]``, as the seed
    shows); a client generated from the vendor's OpenAPI sends ``message`` as one JSON part (OpenAPI's
    default for an object property in ``multipart/form-data``). Bracket fields win where both are sent.
    """
    content: str | int | None = None
    echo: str | int | None = None
    packed = form.get("message")
    if isinstance(packed, UploadFile):
        raise Invalid("message must be a text part holding a JSON object, not a file")
    if packed is not None and packed.strip():
        try:
            inner = decode_json(packed.encode(), MessageIn)
        except Invalid as bad:
            raise Invalid(f"message (a JSON part): {bad.message}") from None
        content, echo = inner.content, inner.echo_id
    for name in ("message[content]", "content"):
        found = form.get(name)
        if isinstance(found, UploadFile):
            raise Invalid(f"{name} must be a text field")
        if found is not None:
            content = found
            break
    for name in ("message[echo_id]", "echo_id"):
        found = form.get(name)
        if isinstance(found, UploadFile):
            raise Invalid(f"{name} must be a text field")
        if found is not None:
            echo = found
            break
    return (str(content) if content is not None else None), echo


class SdkSurface(ApiSurface):
    """Reads bodies as the vendor's clients send them (its own examples end objects with a comma)."""

    async def _decode(self, request: Request, schema: type[S]) -> S:
        raw = await read_body(request, self.limit)
        if not raw.strip():
            raise Invalid("a JSON body is required")
        try:
            decoded: S = loads(raw, schema)
            return decoded
        except msgspec.ValidationError as bad:
            raise Invalid(describe_validation_error(bad)) from None
        except msgspec.DecodeError as bad:
            # The vendor's own examples end objects with a comma ({"name": "...",}): take those too.
            forgiven = without_trailing_commas(raw)
            if forgiven is None:
                raise Invalid(describe_validation_error(bad)) from None
            try:
                forgiven_decoded: S = loads(forgiven, schema)
                return forgiven_decoded
            except msgspec.ValidationError as wrong:
                raise Invalid(describe_validation_error(wrong)) from None
            except msgspec.DecodeError:
                raise Invalid(describe_validation_error(bad)) from None
