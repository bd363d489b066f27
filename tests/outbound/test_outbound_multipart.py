"""Deliveries that are not JSON: form fields and multipart with a stored file, under a path of the
endpoint's URL; signed over the exact bytes sent. A real receiver on loopback, real stores, real files."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from outbound_kit import Receiver, Reply, Seen, World, make_world, quick_settings, run_worker_until
from standardwebhooks import Webhook
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartParser

from helpline.core.files import Blob
from helpline.core.model import Conversation, Event
from helpline.files.local import LocalFileStore
from helpline.outbound.bodies import MultipartBody, form_body, multipart_fields
from helpline.outbound.guard import OutboundGuard
from helpline.outbound.http import OutboundHttp
from helpline.outbound.model import FORM, JSON, MULTIPART, DeliveryFile, DeliveryState, PlannedDelivery
from helpline.outbound.planner import Planner
from helpline.outbound.signing import stream_signature, webhook_headers
from helpline.outbound.worker import DeliveryWorker
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

DIALECT = "test"


def renderer(file: DeliveryFile | None) -> Any:
    """Event ``n`` = 1: form fields to ``/form``; 2: the file as multipart to ``/upload``; 3: JSON."""

    def render(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        assert conversation.origin_token_id is not None
        token = uow.tokens.get(conversation.origin_token_id)
        assert token is not None
        assert token.endpoint_id is not None
        n = event.data["n"]
        if n == 1:
            body = form_body({"message": "olá & bye", "sessionID": "s 1"})
            return [PlannedDelivery(token.endpoint_id, body, FORM, "/form")]
        if n == 2:
            assert file is not None
            fields = multipart_fields({"sessionID": "s-1", "note": "ü"})
            return [PlannedDelivery(token.endpoint_id, fields, MULTIPART, "/upload", file)]
        return [PlannedDelivery(token.endpoint_id, json.dumps({"n": n}))]

    return render


def worker_for(store: Store, files: LocalFileStore | None, file: DeliveryFile | None) -> DeliveryWorker:
    settings = quick_settings()
    http = OutboundHttp(OutboundGuard(settings.outbound_allow), settings)
    planner = Planner({DIALECT: renderer(file)})
    return DeliveryWorker(store, http, planner, settings, store.clock, idle_seconds=0.02, files=files)


async def save(files: LocalFileStore, data: bytes) -> Blob:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 100_000):
            yield data[start : start + 100_000]

    return await files.save(chunks(), len(data))


def expected_signature(secret: str, seen: Seen) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{seen.headers['webhook-id']}.{seen.headers['webhook-timestamp']}.".encode() + seen.body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def parse_multipart(seen: Seen) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    async def once() -> AsyncIterator[bytes]:
        yield seen.body

    form = await MultiPartParser(Headers(seen.headers), once(), max_part_size=1 << 20).parse()  # type: ignore[arg-type]
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[name] = (value.filename or "", value.content_type or "", await value.read())
        else:
            fields[name] = value
    await form.close()
    return fields, files


def settled(world: World, count: int) -> bool:
    found = world.deliveries()
    return len(found) == count and all(d.state is not DeliveryState.PENDING for d in found)


def test_the_stream_signature_is_the_standard_webhooks_signature() -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    body = "message=ol%C3%A1&sessionID=s+1"
    headers = webhook_headers(secret, "evt_1_1", body, 1_700_000_000.7, FORM)
    assert headers["content-type"] == FORM
    assert headers["webhook-timestamp"] == "1700000000"
    pieces = [body[:5].encode(), body[5:].encode()]
    assert stream_signature(secret, "evt_1_1", 1_700_000_000, pieces) == headers["webhook-signature"]
    when = datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert headers["webhook-signature"] == Webhook(secret).sign("evt_1_1", when, body)


def test_a_multipart_body_has_the_length_it_announces(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path / "files")
    data = os.urandom(200_001)
    stored = asyncio.run(files.open(asyncio.run(save(files, data)).key))
    file = DeliveryFile("file", "k", 'a "quoted"\r\nname.bin', "application/octet-stream")
    body = MultipartBody.build({"sessionID": "s", "x": "é"}, file, stored)

    async def streamed() -> bytes:
        return b"".join([chunk async for chunk in body.stream()])

    whole = asyncio.run(streamed())
    assert len(whole) == body.length
    assert body.content_type == f"multipart/form-data; boundary={body.boundary}"
    assert b'filename="a %22quoted%22%0D%0Aname.bin"' in whole
    assert whole.count(body.boundary.encode()) == 4
    assert data in whole
    assert asyncio.run(streamed()) == whole  # streamed again, afresh (signature, then the wire)
    assert MultipartBody.build({}, file, stored).boundary != body.boundary  # random per attempt


def test_form_and_multipart_deliveries_reach_their_paths_signed(store: Store, tmp_path: Path) -> None:
    data = os.urandom(3_000_000)  # larger than any one read or write
    files = LocalFileStore(tmp_path / "files")

    async def go() -> list[Seen]:
        blob = await save(files, data)
        file = DeliveryFile("file", blob.key, "photo ü.jpg", "image/jpeg")
        # The upload fails once: the retry builds and signs the body again.
        replies = {"/hook/upload": [Reply(500, b"busy"), Reply(200, b"ok")]}

        def answer(seen: Seen) -> Reply:
            script = replies.get(seen.path)
            return script.pop(0) if script else Reply(200, b"ok")

        async with Receiver(answer) as receiver:
            world = make_world(store, receiver.url("/hook/"))
            conversation = world.conversation()
            for n in (1, 2, 3):
                world.emit(conversation, n)
            await run_worker_until(worker_for(store, files, file), lambda: settled(world, 3))
        deliveries = world.deliveries()
        assert [(d.content_type, d.path, d.file) for d in deliveries] == [
            (FORM, "/form", None),
            (MULTIPART, "/upload", file),
            (JSON, "", None),
        ]
        assert [(d.state, d.attempts) for d in deliveries] == [
            (DeliveryState.SUCCEEDED, 1),
            (DeliveryState.SUCCEEDED, 2),
            (DeliveryState.SUCCEEDED, 1),
        ]
        assert json.loads(deliveries[1].body) == {"sessionID": "s-1", "note": "ü"}
        secret = world.endpoint.secret
        seen = receiver.seen
        assert [s.path for s in seen] == ["/hook/form", "/hook/upload", "/hook/upload", "/hook/"]
        form, *uploads, last = seen
        assert form.headers["content-type"] == FORM
        assert dict(parse_qsl(form.body.decode())) == {"message": "olá & bye", "sessionID": "s 1"}
        assert form.headers["webhook-signature"] == expected_signature(secret, form)
        for upload in uploads:
            assert upload.headers["webhook-id"] == deliveries[1].webhook_id
            assert upload.headers["content-type"].startswith("multipart/form-data; boundary=helpline-")
            assert int(upload.headers["content-length"]) == len(upload.body)
            assert "transfer-encoding" not in upload.headers
            assert upload.headers["webhook-signature"] == expected_signature(secret, upload)
            fields, sent_files = await parse_multipart(upload)
            assert fields == {"sessionID": "s-1", "note": "ü"}
            name, content_type, sent = sent_files["file"]
            assert (name, content_type) == ("photo ü.jpg", "image/jpeg")
            assert hashlib.sha256(sent).hexdigest() == hashlib.sha256(data).hexdigest() == blob.sha256
        assert uploads[0].headers["content-type"] != uploads[1].headers["content-type"]
        assert last.headers["content-type"] == "application/json"
        Webhook(secret).verify(last.body.decode(), last.headers)
        return seen

    asyncio.run(go())


def test_a_file_gone_from_the_store_fails_the_delivery_for_good(store: Store, tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path / "files")

    async def go() -> None:
        blob = await save(files, b"soon gone")
        await files.delete(blob.key)
        file = DeliveryFile("file", blob.key, "gone.txt", "text/plain")
        async with Receiver() as receiver:
            world = make_world(store, receiver.url())
            world.emit(world.conversation(), 2)
            await run_worker_until(worker_for(store, files, file), lambda: settled(world, 1))
            [delivery] = world.deliveries()
            assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 1)
            assert delivery.last_error == f"the file 'gone.txt' ({blob.key}) is no longer in the file store"
            assert receiver.seen == []

            # A worker without a file store cannot send it either, and says why.
            world.emit(world.conversation(), 2)
            await run_worker_until(worker_for(store, None, file), lambda: settled(world, 2))
            assert world.deliveries()[1].last_error == "this worker has no file store to read the file from"

    asyncio.run(go())
