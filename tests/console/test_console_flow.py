"""The console in a real Chromium against the real server: an agent's day, a race to accept, a network drop."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import httpx
from console_kit import (
    customer_says,
    customer_types,
    errors_of,
    go_online,
    new_page,
    png,
    queue_item,
    shoot,
    sign_in,
    start_interaction,
    wait_for_trigger,
)
from helpline_testing import Receiver, RunningServer, create_agent
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from helpline.core import admin


def online_count(server: RunningServer, setup: dict[str, Any]) -> int:
    found = server.client.get("/api/v1/agents/online", params={"token": setup["token"]})
    assert found.status_code == 200, found.text
    return int(found.json()["count"])


def test_an_agent_answers_transfers_and_a_second_agent_finishes(
    browser: Any, server: RunningServer, receiver: Receiver, tmp_path: Path
) -> None:
    setup = server.setup_account(webhook_url=receiver.url)
    sales = server.add_department(setup["account_id"], "Sales")
    bob = create_agent(server, setup["account_id"], "Bob", [sales])
    ana_context, ana = new_page(browser, server, viewport={"width": 1280, "height": 800})
    bob_context, bob_page = new_page(browser, server, viewport={"width": 1280, "height": 800})

    # Sign in; presence reaches routing at once.
    ana.goto("/console")
    expect(ana.get_by_role("button", name="Sign in")).to_be_visible()
    shoot(ana, "sign-in")
    sign_in(ana, f"ana{setup['account_id']}@acme.test")
    assert online_count(server, setup) == 0
    go_online(ana)
    assert online_count(server, setup) == 1
    ana.get_by_role("combobox", name="Presence").select_option("away")
    expect(ana.locator(".presence-control")).to_have_attribute("data-presence", "away")
    assert online_count(server, setup) == 0
    go_online(ana)

    # A customer app starts an interaction and writes; it shows up live, with a count in the title.
    interaction = start_interaction(server, setup, "Joao")
    customer_says(server, setup, interaction, "Hello, my order 1234 is late")
    item = queue_item(ana, "Joao")
    expect(item).to_be_visible()
    expect(item).to_contain_text("Support")
    expect(item).to_contain_text("Omnize ClientApi V1")
    expect(item).to_contain_text("#1 in line")
    expect(item).to_contain_text("Hello, my order 1234 is late")
    expect(ana).to_have_title("(1) Helpline")
    expect(ana.get_by_role("status").filter(has_text="Joao is waiting in Support")).to_be_visible()
    waited = item.locator(".since").inner_text()
    expect(item.locator(".since")).not_to_have_text(waited, timeout=3000)  # the waiting time ticks
    shoot(ana, "queue")

    # Accept, read, reply: the customer's webhook gets the reply.
    item.get_by_role("button", name="Accept").click()
    expect(ana.get_by_role("list", name="My conversations")).to_contain_text("Joao")
    expect(ana).to_have_title("Helpline")
    log = ana.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Hello, my order 1234 is late")
    composer = ana.get_by_role("textbox", name="Message")
    composer.fill("Hi Joao, let me look at order 1234.")
    composer.press("Shift+Enter")
    composer.press_sequentially("One moment.")
    composer.press("Enter")
    expect(composer).to_have_value("")
    reply = wait_for_trigger(receiver, lambda body: "message" in body)
    assert reply["message"]["content"] == "Hi Joao, let me look at order 1234.\nOne moment."
    assert reply["agent"]["name"] == "Ana"
    assert reply["extra"] == {"clientId": "12"}
    expect(log.get_by_text("One moment.")).to_have_count(1)

    # The agent's typing reaches the customer; the customer's typing shows live.
    composer.press_sequentially("Found")
    wait_for_trigger(receiver, lambda body: body.get("state") == "typing")
    composer.fill("")
    customer_types(server, setup, interaction)
    expect(ana.get_by_text("Joao is typing…")).to_be_visible()

    # Send a file with the picker: it goes up, shows inline, and reaches the customer as a URL.
    picture = tmp_path / "receipt.png"
    picture.write_bytes(png())
    with ana.expect_file_chooser() as chooser:
        ana.get_by_role("button", name="Attach file").click()
    chooser.value.set_files(str(picture))
    image = log.get_by_role("img")
    expect(image).to_have_count(1)
    expect(log.get_by_role("link", name=re.compile("Download receipt.png"))).to_be_visible()
    sent_file = wait_for_trigger(receiver, lambda body: body.get("message", {}).get("type") == "image")
    served = httpx.get(sent_file["message"]["url"], timeout=10)
    assert served.status_code == 200
    assert served.content == picture.read_bytes()
    ana.wait_for_function("img => img.complete && img.naturalWidth === 240", arg=image.element_handle())
    expect(ana.get_by_text("Files up to 25 MB")).to_be_visible()

    # Meanwhile someone else starts waiting (through a token without a webhook): both lists at once.
    quiet_token = server.store.write_sync(
        lambda uow: admin.create_token(uow, setup["account_id"], None)
    ).secret
    start_interaction(server, {**setup, "token": quiet_token}, "Marta")
    expect(queue_item(ana, "Marta")).to_be_visible()
    expect(queue_item(ana, "Marta")).not_to_contain_text("null")
    dismiss = ana.get_by_role("button", name="Dismiss")
    for _ in range(10):  # notices also leave by themselves: one may go between counting and clicking
        if not dismiss.count():
            break
        with contextlib.suppress(PlaywrightTimeoutError):
            dismiss.first.click(timeout=1000)
    expect(dismiss).to_have_count(0)
    shoot(ana, "conversation")

    # Transfer to Sales; Bob, signed in elsewhere, sees it arrive and accepts it.
    sign_in(bob_page, bob["email"])
    go_online(bob_page)
    expect(bob_page.get_by_role("list", name="Queue").get_by_role("listitem")).to_have_count(0)
    ana.get_by_role("button", name="Transfer").click()
    ana.get_by_role("combobox", name="To").select_option(label="Sales")
    shoot(ana, "transfer")
    ana.get_by_role("button", name="Confirm").click()
    expect(ana.get_by_role("status").filter(has_text="handed over to Sales")).to_be_visible()
    expect(ana.get_by_role("list", name="My conversations").get_by_role("listitem")).to_have_count(0)
    bob_item = queue_item(bob_page, "Joao")
    expect(bob_item).to_be_visible()
    expect(bob_item).to_contain_text("Sales")
    bob_item.get_by_role("button", name="Accept").click()
    bob_log = bob_page.get_by_role("log", name="Messages")
    expect(bob_log).to_contain_text("Hello, my order 1234 is late")
    expect(bob_log).to_contain_text("One moment.")
    expect(bob_log.get_by_text("Ana", exact=True).first).to_be_visible()

    # Bob finishes; the customer's app hears it.
    bob_page.get_by_role("button", name="Finish").click()
    expect(bob_page.get_by_text("This conversation is finished.")).to_be_visible()
    expect(bob_page.get_by_role("button", name="Finish")).to_be_hidden()
    wait_for_trigger(receiver, lambda body: body.get("state") == "finished")
    states = [body.get("state") for body in receiver.bodies() if "state" in body]
    assert states[:2] == ["queued", "accepted"]
    assert states[-1] == "finished"
    assert errors_of(ana) == []
    assert errors_of(bob_page) == []

    # Finished conversations can be found again, by customer or by what was said.
    bob_page.get_by_role("button", name="History").click()
    history = bob_page.get_by_role("list", name="Finished conversations")
    expect(history.get_by_role("listitem")).to_have_count(1)
    search = bob_page.get_by_role("searchbox", name="Finished conversations")
    search.fill("order 1234")
    search.press("Enter")
    expect(history.get_by_role("listitem")).to_have_count(1)
    expect(history).to_contain_text("Joao")
    search.fill("no such words")
    search.press("Enter")
    expect(history.get_by_role("listitem")).to_have_count(0)
    expect(bob_page.get_by_text("Nothing found for “no such words”.")).to_be_visible()
    search.fill("JOAO")
    search.press("Enter")
    history.get_by_role("button").first.click()
    expect(bob_page.get_by_role("log", name="Messages")).to_contain_text("Hi Joao, let me look")
    shoot(bob_page, "history")
    ana_context.close()
    bob_context.close()


def test_two_agents_racing_to_accept_one_wins_and_the_other_is_told(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    carla = create_agent(server, setup["account_id"], "Carla", [setup["department_id"]])
    pages = []
    for email in (f"ana{setup['account_id']}@acme.test", carla["email"]):
        context, page = new_page(browser, server)
        sign_in(page, email)
        go_online(page)
        pages.append((context, page))
    interaction = start_interaction(server, setup, "Maria")
    buttons = []
    for _, page in pages:
        expect(queue_item(page, "Maria")).to_be_visible()
        buttons.append(queue_item(page, "Maria").get_by_role("button", name="Accept").element_handle())
    # Both press Accept at the same instant (each page's own timer, on the shared clock).
    at = pages[0][1].evaluate("Date.now()") + 500
    for (_, page), button in zip(pages, buttons, strict=True):
        page.evaluate("([button, at]) => setTimeout(() => button.click(), at - Date.now())", [button, at])

    assignee = None
    for _ in range(100):
        found = server.client.get(
            f"/api/agent/v1/conversations/{interaction}", headers=server.agent_headers(setup["api_key"])
        ).json()
        if found["assignee_id"]:
            assignee = found["assignee_id"]
            break
        pages[0][1].wait_for_timeout(50)
    winner_index = 0 if assignee == setup["agent_id"] else 1
    assert assignee in (setup["agent_id"], carla["agent_id"])
    winner = pages[winner_index][1]
    loser = pages[1 - winner_index][1]
    expect(winner.get_by_role("list", name="My conversations")).to_contain_text("Maria")
    expect(winner.get_by_role("button", name="Finish")).to_be_visible()
    told = loser.get_by_role("alert").filter(has_text="another agent has already accepted this conversation")
    expect(told).to_be_visible()
    expect(loser.get_by_role("list", name="My conversations").get_by_role("listitem")).to_have_count(0)
    expect(loser.get_by_role("list", name="Queue").get_by_role("listitem")).to_have_count(0)
    shoot(loser, "accept-race-lost")
    for context, _ in pages:
        context.close()


def test_after_a_network_drop_everything_sent_meanwhile_shows_exactly_once(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    context, page = new_page(browser, server)
    sign_in(page, f"ana{setup['account_id']}@acme.test")
    go_online(page)
    interaction = start_interaction(server, setup, "Lucia")
    customer_says(server, setup, interaction, "before the drop")
    queue_item(page, "Lucia").get_by_role("button", name="Accept").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("before the drop")

    context.set_offline(True)
    page.evaluate("helplineConsole.live.drop()")
    expect(page.locator("#connection")).to_have_text("Offline: waiting for the network")
    meanwhile = [f"while you were away {n}" for n in range(1, 4)]
    for text in meanwhile:
        customer_says(server, setup, interaction, text)
    other = start_interaction(server, setup, "Pedro")
    customer_says(server, setup, other, "is anyone there?")
    page.wait_for_timeout(300)
    expect(log).not_to_contain_text("while you were away 1")  # nothing arrives while cut off
    shoot(page, "offline")

    context.set_offline(False)
    expect(page.locator("#connection")).to_have_text("Live")
    for text in meanwhile:
        expect(log.get_by_text(text, exact=True)).to_have_count(1)
    expect(log.get_by_text("before the drop", exact=True)).to_have_count(1)
    expect(queue_item(page, "Pedro")).to_contain_text("is anyone there?")

    # A second drop without going offline: the console comes straight back, still nothing doubled.
    page.evaluate("helplineConsole.live.drop()")
    customer_says(server, setup, interaction, "after the second drop")
    expect(log.get_by_text("after the second drop", exact=True)).to_have_count(1)
    expect(page.locator("#connection")).to_have_text("Live")
    page.wait_for_timeout(500)
    for text in [*meanwhile, "before the drop", "after the second drop"]:
        expect(log.get_by_text(text, exact=True)).to_have_count(1)
    assert log.locator("li.message").count() == 5
    assert errors_of(page) == []
    context.close()


def test_a_console_whose_clock_agrees_with_the_servers_keeps_it(browser: Any, server: RunningServer) -> None:
    """The server's clock reaches the console only as Date headers, whole seconds and refreshed about once
    a second: taken as the time itself, they put the console's clock up to two seconds behind (waiting
    times shown short; it made the waiting-time test above flaky under load)."""
    setup = server.setup_account()
    context, page = new_page(browser, server)
    sign_in(page, f"ana{setup['account_id']}@acme.test")
    go_online(page)  # sign-in, presence and listings: several answers, each with its Date header
    start_interaction(server, setup, "Lucia")
    expect(queue_item(page, "Lucia")).to_be_visible()
    offset = page.evaluate("helplineConsole.clockOffset")
    assert offset == 0, offset
    context.close()
