"""The one reading of callers' ids, numbers and URLs (helpline.core.values)."""

from __future__ import annotations

import pytest

from helpline.core.errors import Invalid
from helpline.core.values import MAX_ID, is_id, parse_id, parse_number, parse_url

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("text", ["0", "12", str(MAX_ID)])
def test_ids_are_ascii_digits_within_64_bits(text: str) -> None:
    assert is_id(text)
    assert parse_id(text, "department_id") == int(text)
    assert parse_id(f" {text} ", "department_id") == int(text)


@pytest.mark.parametrize("text", ["", "¹", "²", "١٢", "12a", "-1", "1.5", str(MAX_ID + 1), HUGE, "1" * 400])
def test_anything_else_is_not_an_id(text: str) -> None:
    assert not is_id(text)
    with pytest.raises(Invalid, match=r"^department_id must be a number"):
        parse_id(text, "department_id")


def test_numbers_given_as_numbers_are_checked_too() -> None:
    assert parse_id(7, "agent_id") == 7
    for wrong in (MAX_ID + 1, -1, int(HUGE)):
        with pytest.raises(Invalid, match=f"agent_id must be a number from 0 to {MAX_ID}"):
            parse_id(wrong, "agent_id")
    with pytest.raises(Invalid, match="agent_id must be a number"):
        parse_id(True, "agent_id")


def test_query_numbers_have_bounds_and_only_ascii_digits() -> None:
    assert parse_number("20", "limit", 1, 100) == 20
    assert parse_number("-3", "offset", -10) == -3
    with pytest.raises(Invalid, match="limit must be from 1 to 100 "):
        parse_number("101", "limit", 1, 100)
    with pytest.raises(Invalid, match="after must be at least 0"):
        parse_number("-1", "after", 0)
    for wrong in ("¹", HUGE, "1e3", "", " "):
        with pytest.raises(Invalid, match="limit must be a number"):
            parse_number(wrong, "limit", 1, 100)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[x", "url is not a valid URL"),
        ("http://host:99999/", "url is not a valid URL"),
        ("ftp://host/x", "url must be an http(s) URL"),
        ("http:///path", "url must be an http(s) URL"),
    ],
)
def test_bad_urls_are_invalid_naming_the_field(url: str, why: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_url(url, "url")
    assert refused.value.message.startswith(why)


def test_good_urls_parse_once() -> None:
    parts = parse_url(" https://files.example.com:8443/a.png?x=1 ", "url")
    assert (parts.hostname, parts.port, parts.path) == ("files.example.com", 8443, "/a.png")
