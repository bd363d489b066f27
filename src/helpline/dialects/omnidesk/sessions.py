"""Chat tokens, ``chatServer`` bases and chat sessions: how a request finds its account and its ticket.

A session is keyed by the caller's ``chatSessionID`` under the chat token that started it. Calls that
carry no token (typing and other events, the end of a session) name the session by its id and the
``chatServer`` it was started with.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from helpline.core.credentials import token_hash
from helpline.core.errors import Conflict, Invalid, NotFound, Unauthorized
from helpline.core.model import Conversation
from helpline.dialects.omnidesk.repository import ChatSession, ChatToken, OmnideskRepository
from helpline.store.unit_of_work import UnitOfWork

_SERVER = re.compile(r"^[a-zA-Z0-9.:/-]{5,}$")
_TOKEN = re.compile(r"^[a-zA-Z0-9]{10,}$")
MAX_SERVER = 500
MAX_SESSION_KEY = 255


def chat_server_base(value: str) -> str:
    """The hookpoint base a ``chatServer`` names: a host, ``host:port`` or an http(s) URL (https when
    no scheme is given), without a trailing slash."""
    text = value.strip()
    if len(text) > MAX_SERVER:
        raise Invalid(f"chatServer is longer than {MAX_SERVER} characters")
    if not _SERVER.match(text):
        others = "".join(sorted({ch for ch in text if not re.match(r"[a-zA-Z0-9.:/-]", ch)}))
        why = f"it contains {others!r}" if others else "it is shorter than 5 characters"
        raise Invalid(
            f"chatServer must be at least 5 characters of letters, digits, '.', ':', '/' and '-' ({why})"
        )
    base = text if "://" in text else "https://" + text
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"chatServer must be a host name, an IP address or an http(s) URL (got {value!r})")
    try:
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError:
        raise Invalid(f"chatServer has an invalid port (got {value!r})") from None
    return base.rstrip("/")


def session_key(value: str | int) -> str:
    key = str(value).strip()
    if not key or len(key) > MAX_SESSION_KEY:
        raise Invalid(f"the chat session id must have 1 to {MAX_SESSION_KEY} characters")
    return key


def check_token_format(secret: str) -> str:
    token = secret.strip()
    if not _TOKEN.match(token):
        raise Invalid("chatAccountToken must be at least 10 letters and digits")
    return token


def chat_token(uow: UnitOfWork, secret: str) -> ChatToken:
    found = OmnideskRepository.from_uow(uow).token_by_hash(token_hash(check_token_format(secret)))
    if found is None or not found.active:
        raise Unauthorized("unknown or revoked chatAccountToken")
    return found


def conversation_of(uow: UnitOfWork, session: ChatSession) -> Conversation:
    conversation = uow.conversations.get(session.account_id, session.conversation_id)
    assert conversation is not None  # sessions and conversations are never deleted
    return conversation


def ended(key: str, conversation: Conversation) -> Conflict:
    return Conflict(
        f"chat session {key!r} has ended (ticket {conversation.id}); start a new session with a new chatSessionID"
    )


def find_session(uow: UnitOfWork, key: str, base: str, account_id: int | None) -> ChatSession:
    """The session ``key`` started from ``base`` (in ``account_id`` when the caller sent a token)."""
    by_token: dict[int, ChatSession] = {}
    for session in OmnideskRepository.from_uow(uow).sessions_by_key(
        key
    ):  # newest first: the latest ticket of each token
        if session.chat_server == base and account_id in (None, session.account_id):
            by_token.setdefault(session.chat_token_id, session)
    if not by_token:
        raise NotFound(f"no chat session {key!r} was started from chatServer {base}")
    if len(by_token) == 1:
        return next(iter(by_token.values()))
    live = [s for s in by_token.values() if conversation_of(uow, s).is_open]
    if len(live) == 1:
        return live[0]
    raise Conflict(
        f"more than one chat session {key!r} was started from chatServer {base}; send chatAccountToken to say which"
    )


def session_for_call(uow: UnitOfWork, key: str, base: str, secret: str | None) -> ChatSession:
    """The session a token-optional call (``notifyUserNewChatEvent``, ``notifyUserEndChat``) is about.

    The seed sends no token there, so by default the session id and its ``chatServer`` find it. A token
    that is sent must be the one the session was started with; and a chat token set to ``require_token``
    accepts these calls only with it (see docs/omnidesk.md for the trade-off).
    """
    repository = OmnideskRepository.from_uow(uow)
    if secret:
        token = chat_token(uow, secret)
        found = repository.sessions_by_key(key)
        # Another account's sessions are not there at all for this token (404, as for every lookup).
        started = [s for s in found if s.chat_server == base and s.account_id == token.account_id]
        mine = [s for s in started if s.chat_token_id == token.id]  # newest first: its latest ticket
        if mine:
            return mine[0]
        if started:
            raise Unauthorized(f"chat session {key!r} was not started with this chatAccountToken")
        raise NotFound(f"no chat session {key!r} was started from chatServer {base}")
    session = find_session(uow, key, base, None)
    token_found = repository.token(session.chat_token_id)
    if token_found is not None and token_found.require_token:
        raise Unauthorized(
            f"send the chatAccountToken chat session {key!r} was started with: its chat token requires it"
        )
    return session
