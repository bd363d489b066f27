"""Signing secrets are sealed at rest (``store.secret_box``): no ``whsec_`` in a dump, still usable, rotatable."""

from __future__ import annotations

import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from standardwebhooks import Webhook
from store_backends import BACKENDS, database_url

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))

from helpline_cli import as_json
from helpline_testing import Receiver, RunningServer

from helpline.core import admin
from helpline.core.model import Department
from helpline.dialects.omnidesk import admin as omnidesk_admin
from helpline.dialects.omnidesk.repository import OmnideskRepository
from helpline.store import secret_box
from helpline.store.open import AnyStore, open_store
from helpline.store.sql import SqlUnitOfWork

BEARER = "Bearer push-service-credential-0123456789"


def _secrets(store: AnyStore) -> dict[str, object]:
    """Make one of each stored secret; what was shown at creation."""

    def work(uow: SqlUnitOfWork) -> dict[str, object]:
        account = admin.create_account(uow, "Acme")
        department = admin.create_department(uow, Department(id=0, account_id=account.id, name="Support"))
        issued = admin.create_token(uow, account.id, "https://hooks.example/in")
        chat = omnidesk_admin.create_chat_token(uow, account.id, department.id)
        push = uow.endpoints.create(account.id, "push", "https://push.example", "whsec_" + "A" * 32, uow.now)
        uow.sdk.endpoint_headers.set(push.id, {"authorization": BEARER})
        assert issued.endpoint is not None
        return {
            "webhook": (issued.endpoint.id, issued.endpoint.secret),
            "push": (push.id, push.secret),
            "chat": (chat.token.id, chat.token.signing_secret),
        }

    made: dict[str, object] = store.write_sync(work)
    return made


def _read_back(store: AnyStore, made: dict[str, object]) -> dict[str, object]:
    def work(uow: SqlUnitOfWork) -> dict[str, object]:
        webhook_id, _ = made["webhook"]
        push_id, _ = made["push"]
        chat_id, _ = made["chat"]
        webhook = uow.endpoints.get(webhook_id)
        push = uow.endpoints.get(push_id)
        chat = OmnideskRepository.from_uow(uow).token(chat_id)
        return {
            "webhook": (webhook_id, webhook.secret),
            "push": (push_id, push.secret),
            "chat": (chat_id, chat.signing_secret),
            "headers": push.headers,
        }

    result: dict[str, object] = store.read_sync(work)
    return result


def _dump(url: str) -> str:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return "\n".join(conn.iterdump())
    schema = re.search(r"hl_[0-9a-z_]+", url)
    assert schema is not None, url
    base = url.split("?")[0]
    done = subprocess.run(
        ["pg_dump", "--no-owner", "--schema", schema.group(0), base],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "CREATE TABLE" in done.stdout
    return done.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_signing_secret_or_bearer_in_a_database_dump(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        store = open_store(url, data_dir=str(tmp_path))
        try:
            made = _secrets(store)
            back = _read_back(store, made)
        finally:
            store.close_sync()
        dump = _dump(url)
    assert {k: back[k] for k in made} == made
    assert back["headers"] == {"authorization": BEARER}
    assert "INSERT" in dump or "COPY" in dump
    assert "whsec_" not in dump
    assert "push-service-credential" not in dump
    assert secret_box.MARK in dump
    key_file = tmp_path / secret_box.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_plaintext_rows_of_an_older_database_are_read_and_sealed_at_the_next_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpline.db'}"
    store = open_store(url)
    made = _secrets(store)
    store.close_sync()
    webhook_id, secret = made["webhook"]
    with sqlite3.connect(tmp_path / "helpline.db") as conn:  # as a database from before sealing has it
        conn.execute("UPDATE endpoints SET secret = ?, headers = ? WHERE id = ?", [secret, None, webhook_id])
    assert "whsec_" in _dump(url)

    store = open_store(url, migrate=False)
    assert _read_back(store, made)["webhook"] == (webhook_id, secret)  # read as is
    store.close_sync()
    store = open_store(url)  # a start
    try:
        assert _read_back(store, made)["webhook"] == (webhook_id, secret)
    finally:
        store.close_sync()
    assert "whsec_" not in _dump(url)


def test_rotate_key_reseals_every_secret_and_a_running_process_follows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpline.db'}"
    store = open_store(url, data_dir=str(tmp_path))
    made = _secrets(store)
    old_key = (tmp_path / secret_box.KEY_FILE).read_text()
    before = _dump(url)

    rotated = as_json(tmp_path, "rotate-key")  # another process, as an operator runs it

    assert rotated["resealed"] == 4  # two endpoint secrets, the push headers, the chat token's secret
    assert (tmp_path / secret_box.KEY_FILE).read_text() != old_key
    assert (tmp_path / secret_box.OLD_KEY_FILE).read_text() == old_key
    assert not (tmp_path / secret_box.NEW_KEY_FILE).exists()
    after = _dump(url)
    assert f"{secret_box.MARK}{rotated['key_id']}:" in after
    assert f"{secret_box.MARK}{rotated['key_id']}:" not in before
    try:
        back = _read_back(store, made)  # this process only knew the old key: it re-reads the key files
        assert {k: back[k] for k in made} == made
        assert back["headers"] == {"authorization": BEARER}
    finally:
        store.close_sync()
    (tmp_path / secret_box.OLD_KEY_FILE).unlink()  # the old key retired: the database alone still opens
    store = open_store(url, data_dir=str(tmp_path))
    try:
        assert {k: v for k, v in _read_back(store, made).items() if k in made} == made
    finally:
        store.close_sync()


def test_the_environment_key_seals_with_its_first_key_and_opens_with_all() -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    under_old = secret_box.load(None, {secret_box.ENV: old}).seal("whsec_x")
    box = secret_box.load(None, {secret_box.ENV: f"{new},{old}"})
    assert box.open(under_old) == "whsec_x"
    assert box.seal("whsec_x").startswith(f"{secret_box.MARK}{secret_box.key_id(new.encode())}:")
    stranger = secret_box.load(None, {secret_box.ENV: new})
    with pytest.raises(secret_box.SecretKeyError, match=secret_box.ENV):
        stranger.open(under_old)
    with pytest.raises(secret_box.SecretKeyError, match="not a server key"):
        secret_box.load(None, {secret_box.ENV: "not-a-key"})


def test_webhooks_verify_with_the_secret_shown_at_creation(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    started = server.client.post(
        "/api/v1/interactions",
        json={"token": setup["token"], "department_id": setup["department_id"], "customer": {"name": "Ana"}},
    )
    assert started.status_code < 300, started.text
    [request] = receiver.wait_for(1)
    Webhook(setup["signing_secret"]).verify(request.body, request.headers)
    assert "whsec_" not in _dump(server.store.url)
