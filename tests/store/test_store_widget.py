"""The web widget's settings per inbox (``uow.widget``), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from store_backends import add_department

from helpline.core import inboxes, widget
from helpline.core.widget import WidgetSettings
from helpline.store.open import AnyStore


def test_widget_settings_are_kept_per_inbox_and_origins_admit_across_open_inboxes(
    any_store: AnyStore,
) -> None:
    def setup(uow: Any) -> tuple[int, int]:
        account = uow.accounts.create("Acme", uow.now)
        shop = add_department(uow, account.id, "Shop")
        other = add_department(uow, account.id, "Other")
        inboxes.set_open(uow, shop.id, True)
        return shop.id, other.id

    shop, other = any_store.write_sync(setup)
    assert any_store.read_sync(lambda uow: uow.widget.get(shop)) is None
    any_store.write_sync(
        lambda uow: widget.configure(
            uow, shop, add_origins=["https://shop.example"], greeting="Hi", prechat="name"
        )
    )
    any_store.write_sync(
        lambda uow: widget.configure(uow, shop, add_origins=["https://m.shop.example"], color="#00aa00")
    )
    found = any_store.read_sync(lambda uow: uow.widget.get(shop))
    assert found == WidgetSettings(
        shop, ["https://shop.example", "https://m.shop.example"], "Hi", "#00aa00", "name"
    )
    assert any_store.read_sync(lambda uow: widget.origin_allowed_anywhere(uow, "https://m.shop.example"))
    assert not any_store.read_sync(lambda uow: widget.origin_allowed_anywhere(uow, "https://evil.example"))
    # Settings of a department closed to SDK clients admit nobody.
    any_store.write_sync(
        lambda uow: uow.widget.put(WidgetSettings(other, ["https://other.example"]), uow.now)
    )
    assert not any_store.read_sync(lambda uow: widget.origin_allowed_anywhere(uow, "https://other.example"))
    assert len(any_store.read_sync(lambda uow: uow.widget.all())) == 2
