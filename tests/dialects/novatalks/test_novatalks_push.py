"""Push notifications: the inbox's webhook gets the agent's new messages and status changes for contacts
with registered devices, signed, with the configured headers and parameters."""

from __future__ import annotations

import time

from helpline_testing import Receiver
from novatalks_kit import SdkWorld
from standardwebhooks import Webhook

from helpline.core import inboxes
from helpline.outbound.repository import Deliveries


def planned_all(world: SdkWorld, timeout: float = 5.0) -> None:
    """Wait until the outbox planner has seen every event so far."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if world.server.store.read_sync(
            lambda uow: Deliveries.from_uow(uow).planned_up_to() >= uow.events.last_seq()
        ):
            return
        time.sleep(0.02)
    raise AssertionError("the planner did not catch up")


def test_push_notifications_reach_the_inbox_webhook(world: SdkWorld, receiver: Receiver) -> None:
    setup = world.server.store.write_sync(
        lambda uow: inboxes.configure_push(
            uow,
            world.department_id,
            receiver.url + "/push",
            {"Authorization": "Bearer push-secret", "X-App": "helpline-tests"},
            {"app_id": "com.example.chat", "sound": True},
        )
    )
    assert setup.signing_secret is not None
    contact = world.open(push_token="device-A", message={"content": "hi", "echo_id": "1"})
    registered = world.api.post(
        "/api/v1/sdk/notifications", json={"push_token": "device-B"}, headers=contact.headers
    )
    assert registered.status_code == 200
    world.go_online()
    world.accept(contact.conversation_id)  # a status change
    message = world.agent_says(contact.conversation_id, "We are on it")

    queued, first, second = receiver.wait_for(3)
    assert queued.json()["payload"]["substatus"] == "inqueue"  # the conversation's first status
    status = first.json()
    assert status == {
        "type": "ntk.sdk.chat",
        "event_name": "conversation_status_change",
        "push_tokens": ["device-A", "device-B"],
        "payload": {
            "account_id": world.account_id,
            "inbox_id": world.department_id,
            "conversation_id": contact.conversation_id,
            "dialog_id": status["payload"]["dialog_id"],
            "status": "open",
            "substatus": "interacting",
        },
        "additional_params": {"app_id": "com.example.chat", "sound": True},
    }
    new_message = second.json()
    assert new_message["event_name"] == "conversation_new_message"
    assert new_message["payload"]["message"]["id"] == message["id"]
    assert new_message["payload"]["notification"] == {"title": "Support", "body": "We are on it"}
    world.schema.check_message(new_message["payload"]["message"])
    for call in (first, second):
        assert call.path == "/push"
        assert call.headers["authorization"] == "Bearer push-secret"
        assert call.headers["x-app"] == "helpline-tests"
        Webhook(setup.signing_secret).verify(call.body, call.headers)

    # The contact's own messages are not pushed to it; a forgotten device gets nothing more.
    world.say(contact, "thanks", "2")
    assert world.api.delete("/api/v1/sdk/notifications/device-A", headers=contact.headers).status_code == 200
    world.agent_says(contact.conversation_id, "bye")
    third = receiver.wait_for(4)[3].json()
    assert (third["event_name"], third["push_tokens"]) == ("conversation_new_message", ["device-B"])
    assert third["payload"]["message"]["content"] == "bye"


def test_no_devices_or_no_webhook_means_no_push(world: SdkWorld, receiver: Receiver) -> None:
    silent = world.open("no devices")
    world.go_online()
    world.accept(silent.conversation_id)
    world.agent_says(silent.conversation_id, "hello")
    world.server.store.write_sync(
        lambda uow: inboxes.configure_push(uow, world.department_id, receiver.url + "/push", None, None)
    )
    world.agent_says(silent.conversation_id, "still nobody")
    with_device = world.open("has a device", push_token="device-C")
    world.accept(with_device.conversation_id)
    pushed = receiver.wait_for(2)
    assert [p.json()["payload"]["substatus"] for p in pushed] == ["inqueue", "interacting"]
    assert all(p.json()["push_tokens"] == ["device-C"] for p in pushed)
    world.server.store.write_sync(lambda uow: inboxes.clear_push(uow, world.department_id))
    world.agent_says(with_device.conversation_id, "after the webhook was removed")
    planned_all(world)
    deliveries = world.server.store.read_sync(
        lambda uow: Deliveries.from_uow(uow).list(world.account_id, None, 100)
    )
    assert len(deliveries) == 2
    assert len(receiver.received) == 2
