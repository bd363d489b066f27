"""Helpers for driving the console as an agent would, and a customer app beside it (Omnize ClientApi V1)."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpline_testing import Receiver, RunningServer
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
TIMEOUT_MS = 10_000


@contextlib.contextmanager
def chromium(artifacts: Path, suite: str) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, never a downloaded browser: skipped where it is missing,
    failed under ``CI=true`` (``.ci/run`` installs it)."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) to run the {suite} tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def new_page(browser: Any, server: RunningServer, **options: Any) -> tuple[BrowserContext, Page]:
    options.setdefault("base_url", server.url)
    context: BrowserContext = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = _ERRORS.setdefault(id(page), [])
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page


_ERRORS: dict[int, list[str]] = {}


def errors_of(page: Page) -> list[str]:
    """Uncaught script errors the page has thrown so far (a working console throws none)."""
    return _ERRORS.get(id(page), [])


PASSWORD = "s3cret"  # what the test helpers give every agent


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/console")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Live")


def go_online(page: Page) -> None:
    page.get_by_role("combobox", name="Presence").select_option("online")
    expect(page.locator(".presence-control")).to_have_attribute("data-presence", "online")


def shoot(page: Page, name: str) -> Path:
    """Keep a screenshot of a main screen under test-artifacts/console/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def queue_item(page: Page, customer: str) -> Any:
    return page.get_by_role("list", name="Queue").get_by_role("listitem").filter(has_text=customer)


def start_interaction(
    server: RunningServer, setup: dict[str, Any], customer: str, department_id: int | None = None
) -> str:
    response = server.client.post(
        "/api/v1/interactions",
        json={
            "token": setup["token"],
            "media_type": "text",
            "department_id": str(department_id or setup["department_id"]),
            "customer": {"name": customer, "email": f"{customer.lower()}@example.com"},
            "extra": {"clientId": "12"},
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["interaction_hash"])


def customer_says(server: RunningServer, setup: dict[str, Any], interaction: str, text: str) -> None:
    response = server.client.post(
        f"/api/v1/interactions/{interaction}/messages",
        json={"token": setup["token"], "content": text, "type": "text"},
    )
    assert response.status_code == 200, response.text


def customer_types(server: RunningServer, setup: dict[str, Any], interaction: str) -> None:
    response = server.client.put(f"/api/v1/interactions/{interaction}/typing", json={"token": setup["token"]})
    assert response.status_code == 200, response.text


def wait_for_trigger(
    receiver: Receiver, matches: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """The first webhook body that ``matches``, waiting for it to arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for body in receiver.bodies():
            if matches(body):
                return body  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"no matching webhook arrived; got {receiver.bodies()}")


def png(width: int = 240, height: int = 160) -> bytes:
    """A real PNG image (a blue-ish gradient), so the server's content sniffing sees an image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(
        b"\x00" + b"".join(bytes((40 + x * 4 % 200, 90 + y * 6 % 150, 220)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class SlowLink:
    """A TCP relay on loopback whose upstream (browser → server) carries at most ``rate`` bytes a second.

    A real slow network for the browser: an upload through it takes real time, so its progress can be
    watched and it can be cancelled before the server has the whole file.
    """

    def __init__(self, target_port: int, rate: int) -> None:
        self.target_port = target_port
        self.rate = rate
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, self.rate), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, rate: int | None) -> None:
        chunk = 8 * 1024 if rate else 64 * 1024
        try:
            while data := source.recv(chunk):
                sink.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed = True
        self.listener.close()
        for end in self.sockets:
            with contextlib.suppress(OSError):
                end.close()
