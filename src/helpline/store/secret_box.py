"""Signing secrets at rest: sealed under the operator's server key, opened only when a call is signed.

The ``whsec_...`` secrets of webhook endpoints, bots, Omnidesk chat tokens and SDK push endpoints, and an
endpoint's extra headers (an SDK push service's ``Authorization: Bearer``), must be reversible: the
server signs with them. Hashing is not an option, so they are encrypted (Fernet: AES-128-CBC with an
HMAC-SHA256, from ``cryptography``) under a key the database does not hold. A dump or a stolen backup of
the database alone then signs nothing.

The key: ``HELPLINE_SECRET_KEY`` (one or more comma-separated Fernet keys; the first seals, all open), else
the file ``secret.key`` in the data directory, created with mode 0600 at first start. Several processes on
one PostgreSQL database must share it: the same environment variable, or the same file.

A sealed value reads ``hlsb1:<key id>:<Fernet token>``; the key id (8 hex digits of the key's SHA-256)
says which key opens it. A value without the prefix is plaintext from a database older than this module:
it is read as is (read-both), and every start re-seals such rows (:func:`reseal`), so an upgraded
database is encrypted after its first start without a migration that would need the key.

``helpline rotate-key`` re-seals every row under a new key in one transaction (see :func:`rotate_file_key`
for the key file's crash-safe order). A process that meets a key id it does not know re-reads the key
files once, so running servers keep working through a rotation done by another process.

One process serves one database, so the key is process-wide: the store that was opened last seals, and
every key loaded in the process opens (by key id).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from cryptography.fernet import Fernet, InvalidToken

if TYPE_CHECKING:
    from helpline.store.statements import Db

ENV = "HELPLINE_SECRET_KEY"
KEY_FILE = "secret.key"
NEW_KEY_FILE = "secret.key.new"  # a rotation in progress: its key already opens
OLD_KEY_FILE = "secret.key.old"  # the key before the last rotation: still opens, never seals
MARK = "hlsb1:"

# Every column that holds a sealed secret (``endpoints.headers`` seals its whole JSON text, or is NULL).
SEALED_COLUMNS = (
    ("endpoints", "secret"),
    ("endpoints", "headers"),
    ("omnidesk_chat_tokens", "signing_secret"),
)

log = logging.getLogger(__name__)


class SecretKeyError(Exception):
    """A sealed value whose key is not loaded, or a key that is not a key: the operator must act."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def new_key() -> str:
    return Fernet.generate_key().decode()


def _parse_key(text: str, where: str) -> bytes:
    key = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(key)) != 32:
            raise ValueError
    except ValueError:
        raise SecretKeyError(
            f"{where} is not a server key (32 url-safe base64 bytes; make one with `helpline rotate-key --print-new-key`)"
        ) from None
    return key


@dataclass
class SecretBox:
    """The keys one process knows: ``sealing`` seals, every key in ``opening`` opens."""

    sealing: bytes
    opening: dict[str, Fernet] = field(default_factory=dict)
    key_dir: Path | None = None  # where the key files live (None: the key came from the environment)

    def __post_init__(self) -> None:
        self.opening.setdefault(key_id(self.sealing), Fernet(self.sealing))

    @property
    def sealing_id(self) -> str:
        return key_id(self.sealing)

    def seal(self, plain: str) -> str:
        token = Fernet(self.sealing).encrypt(plain.encode()).decode()
        return f"{MARK}{self.sealing_id}:{token}"

    def open(self, stored: str) -> str:
        if not stored.startswith(MARK):
            return stored  # plaintext from before sealing: re-sealed at the next start
        kid, _, token = stored[len(MARK) :].partition(":")
        fernet = self.opening.get(kid)
        if fernet is None:
            raise SecretKeyError(
                f"a stored secret is sealed under key {kid}, which this process does not have: "
                f"set {ENV} (or the data directory's {KEY_FILE}) as the other processes have it"
            )
        try:
            return fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(f"a stored secret sealed under key {kid} does not open (altered?)") from None


def load(key_dir: str | Path | None, environ: dict[str, str] | None = None) -> SecretBox:
    """The server key: ``HELPLINE_SECRET_KEY`` if set, else ``key_dir``'s key file (created if missing)."""
    env = os.environ if environ is None else environ
    if env.get(ENV, "").strip():
        keys = [_parse_key(part, ENV) for part in env[ENV].split(",") if part.strip()]
        box = SecretBox(keys[0])
        for extra in keys[1:]:
            box.opening[key_id(extra)] = Fernet(extra)
        return box
    if key_dir is None:
        log.warning("no %s and no data directory: secrets are sealed under a key only this process has", ENV)
        return SecretBox(Fernet.generate_key())
    directory = Path(key_dir)
    box = SecretBox(_read_or_create(directory / KEY_FILE), key_dir=directory)
    _add_side_keys(box)
    return box


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _write_key(path, Fernet.generate_key(), exclusive=True)
    return _parse_key(path.read_text(), str(path))


def _write_key(path: Path, key: bytes, exclusive: bool = False) -> None:
    """Write a key file with mode 0600 from its creation on, flushed to disk. ``exclusive``: two processes
    starting at once on a fresh data directory must not each make a key; the loser reads the winner's."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
        out.flush()
        os.fsync(out.fileno())


def _add_side_keys(box: SecretBox) -> None:
    assert box.key_dir is not None
    for name in (NEW_KEY_FILE, OLD_KEY_FILE):
        path = box.key_dir / name
        if path.exists():
            key = _parse_key(path.read_text(), str(path))
            box.opening.setdefault(key_id(key), Fernet(key))


# -- the process's box ----------------------------------------------------------------------------------

_lock = threading.Lock()
_current: SecretBox | None = None
_keyring: dict[str, Fernet] = {}


def install(box: SecretBox) -> None:
    """Make ``box`` the process's sealing key; its keys join every key already known for opening."""
    global _current
    with _lock:
        _keyring.update(box.opening)
        box.opening = _keyring
        _current = box
        _open_cached.cache_clear()


def current() -> SecretBox:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                box = load(None)
                _keyring.update(box.opening)
                box.opening = _keyring
                _current = box
    return _current


def seal(plain: str) -> str:
    return current().seal(plain)


def open_secret(stored: str) -> str:
    """The plaintext of a stored secret (plaintext rows from older databases come back as they are)."""
    if not stored.startswith(MARK):
        return stored
    return _open_cached(stored)


@functools.lru_cache(maxsize=4096)
def _open_cached(stored: str) -> str:
    """Every delivery reads its endpoint: decrypting each time would cost a Fernet (an HMAC and an AES)
    per call, for the same few values."""
    box = current()
    try:
        return box.open(stored)
    except SecretKeyError:
        if box.key_dir is None:
            raise
        _reload(box)  # another process rotated the key
        return box.open(stored)


def _reload(box: SecretBox) -> None:
    global _current
    assert box.key_dir is not None
    with _lock:
        fresh = load(box.key_dir, environ={})
        _keyring.update(fresh.opening)
        if fresh.sealing_id != box.sealing_id:
            fresh.opening = _keyring
            _current = fresh
            log.info("the server key changed on disk (rotated): now sealing under key %s", fresh.sealing_id)


def seal_json(value: dict[str, Any] | None) -> str | None:
    return seal(msgspec.json.encode(value).decode()) if value else None


def open_json(stored: str | None) -> dict[str, Any]:
    if not stored:
        return {}
    opened: dict[str, Any] = msgspec.json.decode(open_secret(stored))
    return opened


# -- re-sealing rows --------------------------------------------------------------------------------------


def reseal(db: Db, box: SecretBox, everything: bool = False) -> int:
    """Seal under ``box``'s sealing key every stored secret that is plaintext or (``everything``) sealed
    under another key; the number of values rewritten. Runs inside the caller's transaction."""
    changed = 0
    prefix = f"{MARK}{box.sealing_id}:"
    for table, column in SEALED_COLUMNS:
        found = db.execute(f"SELECT id, {column} AS value FROM {table} WHERE {column} IS NOT NULL").fetchall()  # noqa: S608
        for row in found:
            value: str = row["value"]
            if value.startswith(prefix) or (value.startswith(MARK) and not everything):
                continue
            update = f"UPDATE {table} SET {column} = ? WHERE id = ?"  # noqa: S608
            db.execute(update, [box.seal(box.open(value)), row["id"]])
            changed += 1
    return changed


def rotate_file_key(key_dir: Path, write: Any) -> tuple[str, int]:
    """Rotate the data directory's key file: the new key is on disk (``secret.key.new``, which already
    opens) before any row is sealed under it; every row is re-sealed in one transaction (``write`` runs a
    unit of work); then the new key replaces ``secret.key`` by an atomic rename, the old one kept as
    ``secret.key.old`` (it still opens, for rows a running process seals before it notices). A crash at
    any point leaves every row readable; running ``rotate-key`` again finishes the job.
    Returns the new key id and how many values were re-sealed."""
    old = _read_or_create(key_dir / KEY_FILE)
    pending = key_dir / NEW_KEY_FILE
    key = _parse_key(pending.read_text(), str(pending)) if pending.exists() else Fernet.generate_key()
    if not pending.exists():
        _write_key(pending, key)
    box = SecretBox(key, key_dir=key_dir)
    box.opening[key_id(old)] = Fernet(old)
    _add_side_keys(box)
    install(box)
    changed: int = write(lambda uow: reseal(uow.db, box, everything=True))
    _write_key(key_dir / OLD_KEY_FILE, old)
    os.replace(pending, key_dir / KEY_FILE)
    _fsync_dir(key_dir)
    return box.sealing_id, changed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
