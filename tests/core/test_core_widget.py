"""Allowed origins of an inbox's web widget: written as browsers send ``Origin``, nothing else accepted."""

from __future__ import annotations

import pytest

from helpline.core.errors import Invalid
from helpline.core.widget import WidgetSettings, normalise_origin


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://Shop.Example/", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:81", "http://[::1]:81"),
        (" * ", "*"),
    ],
)
def test_origins_are_normalised(raw: str, origin: str) -> None:
    assert normalise_origin(raw) == origin


@pytest.mark.parametrize(
    "raw",
    ["shop.example", "ftp://shop.example", "https://shop.example/page", "https://u@shop.example", "https://"],
)
def test_anything_but_an_origin_is_refused(raw: str) -> None:
    with pytest.raises(Invalid):
        normalise_origin(raw)


def test_star_admits_every_origin_and_a_list_only_its_own() -> None:
    listed = WidgetSettings(1, ["https://shop.example"])
    assert listed.allows("https://shop.example")
    assert not listed.allows("https://shop.example.evil")
    assert not listed.allows(None)
    assert WidgetSettings(1, ["*"]).allows("https://anything.example")
