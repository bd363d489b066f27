"""The OpenAPI document of the Zenvia External bot API as Helpline serves it (``/openapi/zenvia-bot.json``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from helpline.dialects.zenvia_bot import schema as bot
from helpline.web.openapi import MESSAGE_AND_STATUS, Operation, document


@cache
def zenvia_bot_document() -> dict[str, Any]:
    b = "/core/api/v1/bot/{interaction_hash}"
    received = {
        "type": "object",
        "properties": {"message": {"const": "Message received successfully"}, "status": {"const": 200}},
    }
    ops = [
        Operation(
            "PUT",
            b + "/accept",
            "The bot takes the interaction on",
            bot.TokenOnly,
            received,
            path_params=["interaction_hash"],
        ),
        Operation(
            "POST",
            b + "/message",
            "Answer the customer (text, or audio/image/video/file with attachment.url)",
            bot.SendMessage,
            received,
            path_params=["interaction_hash"],
        ),
        Operation(
            "PUT",
            b + "/transfer",
            "Hand over to humans: of department_id, or (null) of the department the interaction started in",
            bot.Transfer,
            received,
            path_params=["interaction_hash"],
        ),
        Operation(
            "PUT",
            b + "/finish",
            "End the interaction",
            bot.TokenOnly,
            received,
            path_params=["interaction_hash"],
        ),
    ]
    return document(
        "Zenvia External bot (served by Helpline)",
        "A department with a bot URL gives its new conversations to the bot. The server POSTs to that URL "
        '{"type":"new_interaction","interaction_hash","department_id"}, {"type":"new_message","interaction_hash",'
        '"content","content_type"} (files add "attachment":{"url"}) and {"type":"finished_interaction",'
        '"interaction_hash"}, signed with the bot\'s own secret (Standard Webhooks headers). The bot may act '
        "only on interactions it holds; every refusal is HTTP 422 with a message saying why. A bot that cannot "
        "be reached or does not accept in time loses the interaction to the department's human queue.",
        ops,
        MESSAGE_AND_STATUS,
        None,
    )
