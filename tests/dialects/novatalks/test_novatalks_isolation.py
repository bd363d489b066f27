"""A contact's token reaches its own conversations and nothing else: no token or a wrong one is 401,
another contact's (or another account's) messages are 404, and nothing of theirs changes."""

from __future__ import annotations

from helpline_testing import RunningServer
from novatalks_kit import Contact, SdkWorld, make_world

AUTHORISED = [
    ("GET", "/api/v1/sdk/conversations", None),
    ("GET", "/api/v1/sdk/conversations/messages", None),
    ("POST", "/api/v1/sdk/conversations/messages", {"message": {"content": "hi", "echo_id": "1"}}),
    ("PATCH", "/api/v1/sdk/conversations/messages/status", {"status": "seen", "messageIds": [1]}),
    (
        "PATCH",
        "/api/v1/sdk/conversations/messages/1/interactive-attribute",
        {"selected_content_attribute_value": "x"},
    ),
    ("POST", "/api/v1/sdk/conversations/messages/1/reactions", {"reaction": "👍"}),
    ("DELETE", "/api/v1/sdk/conversations/messages/1", None),
    ("POST", "/api/v1/sdk/notifications", {"push_token": "device-1"}),
    ("DELETE", "/api/v1/sdk/notifications/device-1", None),
]


def test_every_call_needs_a_valid_token(world: SdkWorld) -> None:
    for method, path, body in AUTHORISED:
        for headers in ({}, {"access_token": ""}, {"access_token": "kJGO53QxaEuhHaOU3h5Dc5"}):
            answer = world.api.request(method, path, json=body, headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.json()["error"] == "Unauthorized"


def test_another_contacts_messages_are_not_found(world: SdkWorld) -> None:
    alice, bob = world.open("alice"), world.open("bob")
    world.go_online()
    world.accept(alice.conversation_id)
    world.say(alice, "private", "a1")
    card = world.agent_says(
        alice.conversation_id,
        content="Pick",
        content_type="quick_reply",
        content_attributes={"buttons": [{"title": "Yes", "value": "Y"}]},
    )
    hers = [m["id"] for m in world.messages(alice)]
    dialog = world.messages(alice)[0]["dialog_id"]

    for method, path, body in (
        (
            "PATCH",
            "/api/v1/sdk/conversations/messages/status",
            {"status": "seen", "messageIds": [card["id"]]},
        ),
        (
            "PATCH",
            f"/api/v1/sdk/conversations/messages/{card['id']}/interactive-attribute",
            {"selected_content_attribute_value": "Y"},
        ),
        ("POST", f"/api/v1/sdk/conversations/messages/{hers[0]}/reactions", {"reaction": "👍"}),
        ("DELETE", f"/api/v1/sdk/conversations/messages/{hers[0]}", None),
        (
            "POST",
            "/api/v1/sdk/conversations/messages",
            {
                "message": {
                    "content": f"[RepliedMessageDialogId:]{dialog}[RepliedMessageId:]{hers[0]}"
                    "[RepliedContent:]private[Content:]gotcha",
                    "echo_id": "b1",
                }
            },
        ),
    ):
        answer = world.api.request(method, path, json=body, headers=bob.headers)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"] == "Not Found"

    assert world.messages(bob) == []
    assert world.conversation(bob)["conversation"]["id"] == bob.conversation_id
    after = world.messages(alice)
    assert [m["id"] for m in after] == hers
    assert [(m["status"], m["content_attributes"].get("selected_value"), m["reactions"]) for m in after] == [
        ("sent", None, []),
        ("sent", None, []),
    ]


def test_a_mixed_list_of_ids_changes_nothing(world: SdkWorld) -> None:
    alice, bob = world.open("alice"), world.open("bob")
    world.go_online()
    world.accept(alice.conversation_id)
    world.accept(bob.conversation_id)
    hers = world.agent_says(alice.conversation_id, "for alice")
    his = world.agent_says(bob.conversation_id, "for bob")
    answer = world.api.patch(
        "/api/v1/sdk/conversations/messages/status",
        json={"status": "seen", "messageIds": [his["id"], hers["id"]]},
        headers=bob.headers,
    )
    assert answer.status_code == 404
    assert answer.json()["message"] == f"message {hers['id']} not found"
    assert world.messages(bob)[0]["status"] == "sent"


def test_tenants_are_apart(sdk_server: RunningServer) -> None:
    acme, globex = make_world(sdk_server), make_world(sdk_server)
    # Two inboxes on the server: a client must name one.
    unnamed = acme.api.post("/api/v1/sdk/conversations", json={"name": "who"})
    assert unnamed.status_code == 400
    assert "2 inboxes are open to SDK clients" in unnamed.json()["message"]
    at_acme = acme.api.post(f"/api/v1/sdk/conversations?inbox={acme.identifier}", json={"name": "a"})
    at_globex = globex.api.post(
        "/api/v1/sdk/conversations", json={"name": "g"}, headers={"X-Inbox-Identifier": globex.identifier}
    )
    assert at_acme.json()["payload"]["account_id"] == acme.account_id
    assert at_globex.json()["payload"]["account_id"] == globex.account_id
    unknown = acme.api.post("/api/v1/sdk/conversations?inbox=nope", json={"name": "x"})
    assert unknown.status_code == 404
    a = Contact(
        at_acme.json()["payload"]["contactInbox"]["pubsubToken"],
        at_acme.json()["payload"]["contact"]["id"],
        at_acme.json()["payload"]["conversation"]["id"],
        acme.account_id,
        {},
    )
    g = Contact(
        at_globex.json()["payload"]["contactInbox"]["pubsubToken"],
        at_globex.json()["payload"]["contact"]["id"],
        at_globex.json()["payload"]["conversation"]["id"],
        globex.account_id,
        {},
    )
    acme.say(a, "acme only", "1")
    [message] = acme.messages(a)
    refused = globex.api.post(
        f"/api/v1/sdk/conversations/messages/{message['id']}/reactions",
        json={"reaction": "👀"},
        headers=g.headers,
    )
    assert refused.status_code == 404
    # The agent of one account cannot see the other's conversation either.
    assert (
        sdk_server.client.get(
            f"/api/agent/v1/conversations/{a.conversation_id}", headers=globex.agent
        ).status_code
        == 404
    )


def test_a_closed_inbox_takes_no_one(world: SdkWorld) -> None:
    from helpline.core import inboxes

    contact = world.open()
    world.server.store.write_sync(lambda uow: inboxes.set_open(uow, world.department_id, False))
    assert world.api.get("/api/v1/sdk/conversations", headers=contact.headers).status_code == 401
    assert world.api.post("/api/v1/sdk/conversations", json={"name": "late"}).status_code == 404
    world.server.store.write_sync(lambda uow: inboxes.set_open(uow, world.department_id, True))
    assert world.api.get("/api/v1/sdk/conversations", headers=contact.headers).status_code == 200
    again = world.api.post(f"/api/v1/sdk/conversations?inbox={world.identifier}", json={"name": "back"})
    assert again.status_code == 200  # the identifier stayed
