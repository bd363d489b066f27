"""Reading the SDK's requests and answering in its shapes: the contact's token, query numbers, the
body (forgiving the vendor's trailing commas) and the error body ``{"statusCode", "message", "error"}``."""

from __future__ import annotations

from http import HTTPStatus
from typing import TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from helpline.core import channel
from helpline.core.channel import ContactToken
from helpline.core.errors import Invalid, NotFound, Unauthorized
from helpline.core.model import JsonObject
from helpline.store.unit_of_work import UnitOfWork
from helpline.web.http import describe_validation_error, json_response, read_body
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
    try:
        value = int(float(raw)) if "." in raw else int(raw)
    except ValueError:
        raise Invalid(f"{name} must be a number (got {raw!r})") from None
    if value < low or (high is not None and value > high):
        limits = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise Invalid(f"{name} must be {limits} (got {value})")
    return value


def path_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not raw.isdigit():
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


def parse_echo_id(raw: str | int | None) -> str:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise Invalid("message.echo_id is required")
    echo = str(raw).strip()
    if len(echo) > MAX_ECHO_ID:
        raise Invalid(f"message.echo_id must be at most {MAX_ECHO_ID} characters")
    return echo


class SdkSurface(ApiSurface):
    """Reads bodies as the vendor's clients send them (its own examples end objects with a comma)."""

    async def _decode(self, request: Request, schema: type[S]) -> S:
        raw = await read_body(request, self.limit)
        if not raw.strip():
            raise Invalid("a JSON body is required")
        try:
            return msgspec.json.decode(raw, type=schema)
        except msgspec.ValidationError as bad:
            raise Invalid(describe_validation_error(bad)) from None
        except msgspec.DecodeError as bad:
            # The vendor's own examples end objects with a comma ({"name": "...",}): take those too.
            forgiven = without_trailing_commas(raw)
            if forgiven is None:
                raise Invalid(describe_validation_error(bad)) from None
            try:
                return msgspec.json.decode(forgiven, type=schema)
            except msgspec.ValidationError as wrong:
                raise Invalid(describe_validation_error(wrong)) from None
            except msgspec.DecodeError:
                raise Invalid(describe_validation_error(bad)) from None
