"""Replays seed 002 (Zenvia External bot) against the real server, with a real bot and a real webhook
receiver on 127.0.0.1. The customer app speaks ClientApi V1 here (the hand-off story uses ClientApi REST).

Every body the bot receives and every answer it gets is compared as a whole JSON document.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from bot_testing import (
    RECEIVED,
    bot_account,
    bot_call,
    conversation_state,
    deliveries_to,
    event_types,
    wait_planned,
)
from helpline_testing import Receiver, RunningServer
from standardwebhooks import Webhook

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
EXTRA = {"clientId": "12"}


@pytest.fixture
def bot() -> Any:
    with Receiver() as running:
        yield running


def start_v1(server: RunningServer, setup: dict[str, Any]) -> str:
    response = server.client.post(
        "/api/v1/interactions",
        json={
            "token": setup["token"],
            "media_type": "text",
            "department_id": str(setup["department_id"]),
            "customer": {"name": "Joao", "email": "joao@example.com"},
            "extra": EXTRA,
        },
    )
    assert response.status_code == 200, response.text
    interaction: str = response.json()["data"]["interaction_hash"]
    assert UUID.match(interaction)
    return interaction


def new_interaction(interaction: str, department_id: int) -> dict[str, Any]:
    return {"type": "new_interaction", "interaction_hash": interaction, "department_id": department_id}


def test_every_call_of_the_seed_between_the_bot_and_a_v1_customer(
    server: RunningServer, bot: Receiver, receiver: Receiver
) -> None:
    setup = bot_account(server, bot.url + "/bot", receiver.url + "/hook")
    token = setup["token"]
    interaction = start_v1(server, setup)

    # "Start widget, select a department with an enabled bot": the bot gets new_interaction, signed.
    [first] = bot.wait_for(1)
    assert (first.method, first.path) == ("POST", "/bot")
    assert first.json() == new_interaction(interaction, setup["department_id"])
    assert Webhook(setup["bot_secret"]).verify(first.body, first.headers) == first.json()
    assert conversation_state(server, setup["api_key"], interaction)["state"] == "bot"

    # Accept → the seed's success answer; the V1 customer hears "accepted".
    accepted = bot_call(server, interaction, "accept", {"token": token})
    assert (accepted.status_code, accepted.json()) == (200, RECEIVED)
    assert receiver.wait_for(1)[0].json() == {
        "interaction_hash": interaction,
        "state": "accepted",
        "extra": EXTRA,
    }

    # The customer writes: the bot gets new_message.
    sent = server.client.post(
        f"/api/v1/interactions/{interaction}/messages",
        json={"token": token, "content": "Test message", "type": "text"},
    )
    assert sent.status_code == 200, sent.text
    assert bot.wait_for(2)[1].json() == {
        "type": "new_message",
        "interaction_hash": interaction,
        "content": "Test message",
        "content_type": "text",
    }

    # The seed's message example (an image with an attachment), then a text with content_type null.
    image = bot_call(
        server,
        interaction,
        "message",
        {
            "token": token,
            "content": "your message",
            "content_type": "image",
            "attachment": {"url": "https://file-address.example.com/logo.png", "size": "1.0MB"},
        },
    )
    assert (image.status_code, image.json()) == (200, RECEIVED)
    text = bot_call(
        server, interaction, "message", {"token": token, "content": "How can I help?", "content_type": None}
    )
    assert (text.status_code, text.json()) == (200, RECEIVED)
    image_trigger, text_trigger = (r.json() for r in receiver.wait_for(3)[1:])
    assert image_trigger == {
        "interaction_hash": interaction,
        "message": {
            "hash": image_trigger["message"]["hash"],
            "content": "your message",
            "type": "image",
            "url": "https://file-address.example.com/logo.png",
        },
        "agent": {"id": None, "name": "Support bot"},
        "sender": "bot",
        "extra": EXTRA,
    }
    assert text_trigger == {
        "interaction_hash": interaction,
        "message": {"hash": text_trigger["message"]["hash"], "content": "How can I help?", "type": "text"},
        "agent": {"id": None, "name": "Support bot"},
        "sender": "bot",
        "extra": EXTRA,
    }

    # A file from the customer reaches the bot with its URL.
    photo = server.client.post(
        f"/api/v1/interactions/{interaction}/messages",
        json={
            "token": token,
            "content": "my receipt",
            "type": "image/png",
            "url": "https://cdn.example.org/r.png",
        },
    )
    assert photo.status_code == 200, photo.text
    assert bot.wait_for(3)[2].json() == {
        "type": "new_message",
        "interaction_hash": interaction,
        "content": "my receipt",
        "content_type": "image",
        "attachment": {"url": "https://cdn.example.org/r.png"},
    }

    # "When client finishes the interaction": finished_interaction.
    finished = server.client.put(f"/api/v1/interactions/{interaction}/finish", json={"token": token})
    assert finished.status_code == 200, finished.text
    assert bot.wait_for(4)[3].json() == {"type": "finished_interaction", "interaction_hash": interaction}

    # What the bot wrote is in the transcript an agent reads, marked as the bot's.
    messages = server.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    assert [(m["sender"]["type"], m["content"]) for m in messages] == [
        ("contact", "Test message"),
        ("bot", "your message"),
        ("bot", "How can I help?"),
        ("contact", "my receipt"),
    ]
    # Every call to the bot went through the delivery log, signed with the bot's own secret. (The last
    # one's outcome is recorded just after the bot answered: give it a moment.)
    deadline = time.monotonic() + 5
    states = [d.state.value for d in deliveries_to(server, setup["bot_endpoint_id"])]
    while states != ["succeeded"] * 4 and time.monotonic() < deadline:
        time.sleep(0.02)
        states = [d.state.value for d in deliveries_to(server, setup["bot_endpoint_id"])]
    assert states == ["succeeded"] * 4
    for request in bot.received:
        Webhook(setup["bot_secret"]).verify(request.body, request.headers)


def test_the_bot_finishes_and_then_may_do_nothing_more(
    server: RunningServer, bot: Receiver, receiver: Receiver
) -> None:
    setup = bot_account(server, bot.url + "/bot", receiver.url + "/hook")
    interaction = start_v1(server, setup)
    bot.wait_for(1)
    finished = bot_call(server, interaction, "finish", {"token": setup["token"]})
    assert (finished.status_code, finished.json()) == (200, RECEIVED)
    assert receiver.wait_for(1)[0].json() == {
        "interaction_hash": interaction,
        "state": "finished",
        "extra": EXTRA,
    }
    for action, body in (
        ("accept", {}),
        ("message", {"content": "hi"}),
        ("transfer", {"department_id": None}),
        ("finish", {}),
    ):
        refused = bot_call(server, interaction, action, {"token": setup["token"], **body})
        assert (refused.status_code, refused.json()) == (
            422,
            {"message": f"interaction {interaction} is already finished", "status": 422},
        )
    # The bot ended it itself: it is not told about its own finish.
    assert event_types(server, setup["account_id"], interaction)[-1] == "conversation.finished"
    wait_planned(server)
    assert len(deliveries_to(server, setup["bot_endpoint_id"])) == 1


def test_transfer_to_a_department_hands_over_and_the_bot_hears_nothing_more(
    server: RunningServer, bot: Receiver, receiver: Receiver
) -> None:
    setup = bot_account(server, bot.url + "/bot", receiver.url + "/hook")
    sales = server.add_department(setup["account_id"], "Sales")
    bob = server.add_agent(setup["account_id"], [sales], "Bob")
    interaction = start_v1(server, setup)
    bot.wait_for(1)

    moved = bot_call(server, interaction, "transfer", {"token": setup["token"], "department_id": sales})
    assert (moved.status_code, moved.json()) == (200, RECEIVED)
    assert receiver.wait_for(1)[0].json() == {
        "interaction_hash": interaction,
        "state": "queued",
        "position": 1,
        "extra": EXTRA,
    }
    state = conversation_state(server, bob["api_key"], interaction)
    assert (state["state"], state["department_id"], state["origin_department_id"]) == (
        "queued",
        sales,
        setup["department_id"],
    )

    refused = bot_call(server, interaction, "message", {"token": setup["token"], "content": "still there?"})
    assert refused.status_code == 422
    assert refused.json() == {
        "message": f"interaction {interaction} is no longer with the bot: it waits for a human agent in department "
        f"{sales} (Sales)",
        "status": 422,
    }

    # The customer writes and leaves; an agent takes over in between. The bot is told none of it.
    token = setup["token"]
    server.client.post(
        f"/api/v1/interactions/{interaction}/messages", json={"token": token, "content": "hello?"}
    )
    accepted = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/accept", headers=server.agent_headers(bob["api_key"])
    )
    assert accepted.status_code == 200, accepted.text
    server.client.put(f"/api/v1/interactions/{interaction}/finish", json={"token": token})
    assert receiver.wait_for(2)[1].json()["state"] == "accepted"
    wait_planned(server)
    assert [r.json()["type"] for r in bot.received] == ["new_interaction"]
    assert len(deliveries_to(server, setup["bot_endpoint_id"])) == 1


def test_transfer_with_null_goes_to_the_humans_of_the_starting_department(
    server: RunningServer, bot: Receiver, receiver: Receiver
) -> None:
    setup = bot_account(server, bot.url + "/bot", receiver.url + "/hook")
    interaction = start_v1(server, setup)
    bot.wait_for(1)
    # The seed's example names department 9999, which does not exist here: refused, the bot keeps it.
    unknown = bot_call(server, interaction, "transfer", {"token": setup["token"], "department_id": 9999})
    assert (unknown.status_code, unknown.json()) == (
        422,
        {"message": "department 9999 does not exist", "status": 422},
    )
    assert conversation_state(server, setup["api_key"], interaction)["state"] == "bot"
    moved = bot_call(server, interaction, "transfer", {"token": setup["token"], "department_id": None})
    assert (moved.status_code, moved.json()) == (200, RECEIVED)
    state = conversation_state(server, setup["api_key"], interaction)
    assert (state["state"], state["department_id"]) == ("queued", setup["department_id"])
    assert event_types(server, setup["account_id"], interaction)[-2:] == [
        "conversation.transferred",
        "conversation.queued",
    ]


def test_a_second_interaction_after_a_transfer_without_department_id_field(
    server: RunningServer, bot: Receiver
) -> None:
    setup = bot_account(server, bot.url + "/bot")
    interaction = start_v1(server, setup)
    moved = bot_call(server, interaction, "transfer", {"token": setup["token"]})
    assert (moved.status_code, moved.json()) == (200, RECEIVED)
    assert conversation_state(server, setup["api_key"], interaction)["state"] == "queued"


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("accept", {"token": "nope"}, "invalid token"),
        ("accept", {}, "token is required"),
        ("accept", {"token": "{token}", "interaction": 1}, "Object contains unknown field interaction"),
        ("message", {"token": "{token}"}, "content is required"),
        ("message", {"token": "{token}", "content": " "}, "content is required for a text message"),
        (
            "message",
            {"token": "{token}", "content": "x", "content_type": "sticker"},
            "content_type must be one of text, image, video, audio, file, card, quick_reply, feedback or null (got 'sticker')",
        ),
        (
            "message",
            {"token": "{token}", "content": "x", "content_type": "video"},
            "attachment.url is required for a message of content_type video",
        ),
        (
            "message",
            {"token": "{token}", "content": "x", "content_type": "file", "attachment": {"url": "ftp://x/y"}},
            "attachment.url must be an http(s) URL (got 'ftp://x/y')",
        ),
        ("message", {"token": "{token}", "content": 5}, "Expected str | null, got int at content"),
        (
            "transfer",
            {"token": "{token}", "department_id": "sales"},
            "department_id must be a number or null (got 'sales')",
        ),
    ],
)
def test_refusals_use_the_seed_shape_and_say_what_is_wrong(
    server: RunningServer, bot: Receiver, action: str, body: dict[str, Any], message: str
) -> None:
    setup = bot_account(server, bot.url + "/bot")
    interaction = start_v1(server, setup)
    filled = {k: (setup["token"] if v == "{token}" else v) for k, v in body.items()}
    refused = bot_call(server, interaction, action, filled)
    assert (refused.status_code, refused.json()) == (422, {"message": message, "status": 422})
    assert conversation_state(server, setup["api_key"], interaction)["state"] == "bot"


def test_unknown_foreign_and_malformed_requests_are_refused(server: RunningServer, bot: Receiver) -> None:
    setup = bot_account(server, bot.url + "/bot")
    other = server.setup_account()
    interaction = start_v1(server, setup)
    missing = bot_call(server, "0000a-000b-0c00-0d0e-f00d00f11111", "accept", {"token": setup["token"]})
    assert (missing.status_code, missing.json()) == (
        422,
        {"message": "interaction 0000a-000b-0c00-0d0e-f00d00f11111 not found", "status": 422},
    )
    # Another account's token does not reach this account's interactions.
    foreign = bot_call(server, interaction, "finish", {"token": other["token"]})
    assert (foreign.status_code, foreign.json()["message"]) == (422, f"interaction {interaction} not found")
    malformed = server.client.put(f"/core/api/v1/bot/{interaction}/accept", content=b"{token")
    assert malformed.status_code == 422
    assert malformed.json()["message"].startswith("malformed JSON body")
    wrong_method = server.client.post(
        f"/core/api/v1/bot/{interaction}/accept", json={"token": setup["token"]}
    )
    assert wrong_method.status_code == 405
    # A conversation that never had a bot.
    plain = server.setup_account()
    human = start_v1(server, plain)
    refused = bot_call(server, human, "accept", {"token": plain["token"]})
    assert refused.status_code == 422
    assert refused.json()["message"] == (
        f"interaction {human} is not with a bot: it waits for a human agent in department "
        f"{plain['department_id']} (Support)"
    )


def test_accept_is_idempotent_and_a_message_without_accept_accepts(
    server: RunningServer, bot: Receiver, receiver: Receiver
) -> None:
    setup = bot_account(server, bot.url + "/bot", receiver.url + "/hook")
    interaction = start_v1(server, setup)
    said = bot_call(server, interaction, "message", {"token": setup["token"], "content": "Hi"})
    assert said.status_code == 200, said.text
    for _ in range(2):
        assert bot_call(server, interaction, "accept", {"token": setup["token"]}).status_code == 200
    first, second = (r.json() for r in receiver.wait_for(2))
    assert first == {"interaction_hash": interaction, "state": "accepted", "extra": EXTRA}
    assert second["message"]["content"] == "Hi"
    assert event_types(server, setup["account_id"], interaction).count("conversation.bot_accepted") == 1


def test_an_idempotency_key_makes_a_retried_bot_message_one_message(
    server: RunningServer, bot: Receiver
) -> None:
    setup = bot_account(server, bot.url + "/bot")
    interaction = start_v1(server, setup)
    for _ in range(2):
        response = server.client.post(
            f"/core/api/v1/bot/{interaction}/message",
            json={"token": setup["token"], "content": "once"},
            headers={"idempotency-key": "k-1"},
        )
        assert response.status_code == 200, response.text
    messages = server.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    assert [m["content"] for m in messages] == ["once"]


def test_a_bot_asks_with_quick_replies(server: RunningServer, bot: Receiver, receiver: Receiver) -> None:
    """Beyond the seed: a bot sends a quick reply; the V1 customer reads it as numbered text."""
    setup = bot_account(server, bot.url + "/bot", receiver.url + "/hook")
    interaction = start_v1(server, setup)
    asked = bot_call(
        server,
        interaction,
        "message",
        {
            "token": setup["token"],
            "content": "Sales or support?",
            "content_type": "quick_reply",
            "content_attributes": {
                "buttons": [{"title": "Sales", "value": "S"}, {"title": "Support", "value": "T"}]
            },
        },
    )
    assert asked.status_code == 200, asked.text
    trigger = receiver.wait_for(2)[1].json()
    assert trigger["message"]["content"] == "Sales or support?\n1. Sales\n2. Support"
    assert trigger["message"]["type"] == "text"
    stored = server.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    assert stored[-1]["content_type"] == "quick_reply"
    assert stored[-1]["content_attributes"]["buttons"][1] == {"title": "Support", "value": "T"}
    for body, fragment in (
        ({"content": "x", "content_type": "text", "content_attributes": {}}, "only for card"),
        ({"content": "x", "content_type": "card"}, "buttons"),
        ({"content": "x", "content_type": "poll"}, "content_type must be one of"),
    ):
        refused = bot_call(server, interaction, "message", {"token": setup["token"], **body})
        assert refused.status_code == 422
        assert fragment in refused.json()["message"]


def test_the_openapi_document_describes_the_bot_calls(server: RunningServer) -> None:
    document = server.client.get("/openapi/zenvia-bot.json").json()
    paths = document["paths"]
    assert set(paths["/core/api/v1/bot/{interaction_hash}/message"]) == {"post"}
    for action in ("accept", "transfer", "finish"):
        assert set(paths[f"/core/api/v1/bot/{{interaction_hash}}/{action}"]) == {"put"}
    assert {"SendMessage", "Transfer", "TokenOnly", "Attachment"} <= set(document["components"]["schemas"])
    assert any(url.endswith("/openapi/zenvia-bot.json") for url in server.client.get("/").json()["openapi"])


def test_the_v1_department_listing_names_the_bot(server: RunningServer, bot: Receiver) -> None:
    setup = bot_account(server, bot.url + "/bot")
    plain = server.add_department(setup["account_id"], "Humans")
    listed = server.client.get("/api/v1/departments", params={"token": setup["token"]}).json()
    bot_ids = {d["id"]: d["bot_id"] for d in listed}
    assert isinstance(bot_ids[setup["department_id"]], int)
    assert bot_ids[plain] is None
