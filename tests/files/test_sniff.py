import os

import pytest

from helpline.files.sniff import content_type

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + bytes(40)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", "application/octet-stream"),
        (PNG_HEAD, "image/png"),
        (b"%PDF-1.4\n" + bytes(range(256)), "application/pdf"),
        (b'{"a": 1}', "application/json"),
        (b'<?xml version="1.0"?><a/>', "application/xml"),
        ("olá, tudo bem?".encode(), "text/plain"),
        ("olá".encode()[:-1], "text/plain"),  # a character cut at the end of the sample
        (b"\x00\x01\x02\xff" * 10, "application/octet-stream"),
    ],
)
def test_a_head_is_named_by_its_bytes(head: bytes, expected: str) -> None:
    assert content_type(head) == expected


def test_a_binary_file_opening_with_a_brace_is_not_json() -> None:
    """ "{" is JSON's whole signature: one random file in 256 opens with it."""
    head = b"{\xff\xfe\x00" + bytes(range(256)) * 4
    assert content_type(head) == "application/octet-stream"


def test_random_bytes_are_almost_never_given_a_type() -> None:
    """Before one-byte signatures were held to text, about one random file in 250 was called JSON."""
    named = [content_type(os.urandom(8192)) for _ in range(5000)]
    assert "application/json" not in named
    assert named.count("application/octet-stream") >= 4980
