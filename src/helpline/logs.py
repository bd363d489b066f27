"""What the server's log lines may say: credentials in query strings are replaced before any line is written.

Several of the APIs Helpline speaks put a credential in the URL (Omnize V1's ``?token=``, the Novatalks
SDK's ``?access_token=``, Omnidesk's ``?chatAccountToken=``/``?chatServerToken=``, the agent websocket's
``?api_key=``), and uvicorn's access and websocket lines quote the whole request target. Log files travel
further than databases (to aggregators, tickets, screenshots), so the redaction sits on every handler the
server writes through, and covers the message and any traceback text alike.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Query parameter names whose values are credentials, in any of the APIs served (matched case-insensitively).
SECRET_PARAMETERS = (
    "token",
    "access_token",
    "api_key",
    "apikey",
    "chatAccountToken",
    "chatServerToken",
    "pubsub_token",
    "password",
    "secret",
    "key",
)
REDACTED = "[redacted]"

_SECRET_IN_QUERY = re.compile(
    r"(?P<name>[?&;](?:" + "|".join(re.escape(p) for p in SECRET_PARAMETERS) + r")=)[^&;#\s\"'<>]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with the value of every secret query parameter replaced."""
    if "=" not in text:
        return text
    return _SECRET_IN_QUERY.sub(lambda m: m.group("name") + REDACTED, text)


class RedactSecrets(logging.Filter):
    """A handler filter: renders the record's message (and traceback) once, redacted, in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            # uvicorn's access formatter reads the request line from args; redact each string argument.
            if isinstance(record.args, tuple):
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def server_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with every handler redacting."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "helpline.logs.RedactSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    return config


def install_on_root(log_level: str) -> None:
    """Redact on the root logger's handlers too (what ``logging.basicConfig`` set up for everything else),
    and keep alembic's per-start INFO lines (its plugins and context, eight of them) out below debug."""
    if logging.getLevelNamesMapping().get(log_level.upper(), logging.INFO) > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
