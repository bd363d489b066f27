"""Files both ways and interactive messages (quick replies, a card's buttons, a rating) in the widget."""

from __future__ import annotations

from typing import Any

from console_kit import png
from playwright.sync_api import expect
from widget_kit import Widgetised, log, open_site, panel, send, shoot, wait_until


def test_files_both_ways_and_interactive_messages_round_trip(
    browser: Any, shop: Widgetised, tmp_path: Any
) -> None:
    shop.go_online()
    context, page = open_site(
        browser, shop.site.page("/", shop.snippet()), viewport={"width": 1000, "height": 800}
    )
    page.get_by_role("button", name="Open chat").click()
    chat = panel(page)
    expect(chat).to_contain_text(f"Files up to {shop.server.settings.max_upload_bytes // (1024 * 1024)} MB")
    send(page, "Here is my receipt")
    conversation_id = shop.wait_for_conversation("Visitor")["id"]
    shop.post(conversation_id, "accept")

    # The customer's file, through the picker.
    picture = tmp_path / "receipt.png"
    picture.write_bytes(png())
    with page.expect_file_chooser() as chooser:
        chat.get_by_role("button", name="Attach file").click()
    chooser.value.set_files(str(picture))
    expect(log(page).get_by_role("img", name="receipt.png")).to_be_visible()
    uploaded = wait_until(lambda: [m for m in shop.messages(conversation_id) if m.get("url")])
    assert uploaded
    assert uploaded[0]["content_type"] == "image"
    assert shop.server.client.get(uploaded[0]["url"].replace(shop.server.url, "")).content == png()

    # The agent's file.
    sent = shop.server.client.post(
        f"/api/agent/v1/conversations/{conversation_id}/attachments",
        files={"file": ("invoice.txt", b"Invoice 42: paid", "text/plain")},
        headers=shop.headers,
    )
    assert sent.status_code < 300, sent.text
    expect(log(page).get_by_role("link", name="invoice.txt")).to_be_visible()

    # A quick reply: buttons; the choice goes back and shows as chosen.
    shop.say(
        conversation_id,
        "How fast?",
        content_type="quick_reply",
        content_attributes={
            "buttons": [{"title": "Standard", "value": "STD"}, {"title": "Express", "value": "EXP"}]
        },
    )
    question = log(page).get_by_role("listitem").filter(has_text="How fast?")
    question.get_by_role("button", name="Express").click()
    expect(question).to_contain_text("You chose: Express")
    expect(question.get_by_role("button", name="Express")).to_have_attribute("aria-pressed", "true")
    expect(question.get_by_role("button", name="Standard")).to_be_disabled()
    chosen = wait_until(
        lambda: next(
            (
                m
                for m in shop.messages(conversation_id)
                if m["content"] == "How fast?" and m["selected_value"]
            ),
            None,
        )
    )
    assert chosen["selected_value"] == "EXP"

    # A card with a link and a postback button.
    shop.say(
        conversation_id,
        "Blue shoes",
        content_type="card",
        content_attributes={
            "image_url": f"{shop.server.url}/widget.js",
            "buttons": [
                {"type": "link", "title": "See them", "url": "https://shop.example/blue"},
                {"type": "postback", "title": "Buy", "value": "BUY_BLUE"},
            ],
        },
    )
    card = log(page).get_by_role("listitem").filter(has_text="Blue shoes")
    expect(card.get_by_role("link", name="See them")).to_have_attribute("href", "https://shop.example/blue")
    card.get_by_role("button", name="Buy").click()
    expect(card).to_contain_text("You chose: Buy")
    wait_until(lambda: any(m.get("selected_value") == "BUY_BLUE" for m in shop.messages(conversation_id)))
    assert any(m.get("selected_value") == "BUY_BLUE" for m in shop.messages(conversation_id))

    # A rating with a comment.
    shop.say(conversation_id, "How did we do?", content_type="feedback")
    rating = log(page).get_by_role("listitem").filter(has_text="How did we do?")
    rating.get_by_role("button", name="Rate 4 of 5").click()
    rating.get_by_role("textbox", name="Comment (optional)").fill("Quick and kind")
    shoot(page, "03-interactive")
    rating.get_by_role("button", name="Send rating").click()
    expect(rating).to_contain_text("Thanks for your rating: 4: Quick and kind")
    feedback = wait_until(lambda: shop.conversation(conversation_id).get("feedback"))
    assert feedback["value"] == "4: Quick and kind"
    assert not page.errors  # type: ignore[attr-defined]
    context.close()
