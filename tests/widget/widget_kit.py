"""Helpers for the widget's browser tests: the customer's website on its own origin, a cuttable link to
Helpline, the agent on the agent API, and screenshots."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from console_kit import TIMEOUT_MS
from helpline_testing import RunningServer, create_agent
from playwright.sync_api import BrowserContext, Locator, Page

from helpline.core import inboxes, widget

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "widget"
AGENT = "/api/agent/v1"


class Site:
    """The customer's website: pages served from 127.0.0.1 on a port of its own (another origin)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.requests: list[str] = []
        pages, requests = self.pages, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Site:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def page(self, path: str, snippet: str, title: str = "Shop", head: str = "", body: str = "") -> str:
        self.pages[path] = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"{head}</head><body><h1>{title}</h1><p>Our products.</p><a href='/other'>Other page</a>{body}"
            f"{snippet}</body></html>"
        )
        return self.url + path


class Link:
    """A TCP relay to Helpline that can be cut (every connection dropped, new ones refused) and restored:
    a real network drop for the browser."""

    def __init__(self, target_port: int, rate: int | None = None) -> None:
        self.target_port = target_port
        self.rate = rate  # bytes a second from the browser to Helpline (None: as fast as it goes)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
            with contextlib.suppress(OSError):
                self.listener.close()
            self.listener = None
        for end in self.sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                end.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            for source, sink, rate in ((client, upstream, self.rate), (upstream, client, None)):
                threading.Thread(target=self._pump, args=(source, sink, rate), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, rate: int | None) -> None:
        try:
            while data := source.recv(8192 if rate else 65536):
                sink.sendall(data)
                if rate:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@dataclass
class Widgetised:
    server: RunningServer
    site: Site
    account_id: int
    department_id: int
    identifier: str
    agent: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return self.server.agent_headers(self.agent["api_key"])

    def snippet(self, base: str | None = None, **attributes: str) -> str:
        extra = "".join(f' data-{k}="{v}"' for k, v in attributes.items())
        return f'<script src="{base or self.server.url}/widget.js" data-inbox="{self.identifier}"{extra} async></script>'

    def go_online(self) -> None:
        answer = self.server.client.put(f"{AGENT}/presence", json={"status": "online"}, headers=self.headers)
        assert answer.status_code == 200, answer.text

    def conversations(self) -> list[dict[str, Any]]:
        answer = self.server.client.get(f"{AGENT}/conversations", headers=self.headers)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["conversations"]
        return found

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        answer = self.server.client.get(f"{AGENT}/conversations/{conversation_id}", headers=self.headers)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def wait_for_conversation(self, customer: str) -> dict[str, Any]:
        found = wait_until(
            lambda: next((c for c in self.conversations() if customer_of(c) == customer), None)
        )
        assert found is not None
        return found

    def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        answer = self.server.client.get(
            f"{AGENT}/conversations/{conversation_id}/messages", headers=self.headers
        )
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["messages"]
        return found

    def post(self, conversation_id: int, action: str, **body: Any) -> dict[str, Any]:
        answer = self.server.client.post(
            f"{AGENT}/conversations/{conversation_id}/{action}", json=body, headers=self.headers
        )
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else {}  # type: ignore[no-any-return]

    def say(self, conversation_id: int, content: str, **more: Any) -> dict[str, Any]:
        return self.post(conversation_id, "messages", content=content, **more)


def customer_of(conversation: dict[str, Any]) -> str | None:
    contact = conversation.get("contact") or conversation.get("customer") or {}
    return contact.get("name") if isinstance(contact, dict) else None


def make_widgetised(
    server: RunningServer, site: Site, queue: bool = True, origin: str | None = None
) -> Widgetised:
    setup = server.setup_account(queue=queue)
    department = setup["department_id"]

    def work(uow: Any) -> str:
        inbox = inboxes.set_open(uow, department, True)
        widget.configure(uow, department, add_origins=[origin or site.url])
        assert inbox.identifier is not None
        return inbox.identifier

    identifier = server.store.write_sync(work)
    agent = create_agent(server, setup["account_id"], "Ana", [department])
    return Widgetised(server, site, setup["account_id"], department, identifier, agent)


def wait_until(check: Callable[[], Any], timeout: float = TIMEOUT_MS / 1000) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    return check()


def open_site(browser: Any, url: str, **options: Any) -> tuple[BrowserContext, Page]:
    context: BrowserContext = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    sockets: list[str] = []  # the websockets and console lines of the page, to print when a test fails
    page.sockets = sockets  # type: ignore[attr-defined]

    def watch(ws: Any) -> None:
        sockets.append(f"open {ws.url}")
        ws.on("close", lambda _: sockets.append("close"))
        ws.on("socketerror", lambda e: sockets.append(f"error {e}"))
        ws.on("framereceived", lambda f: sockets.append(f"recv {str(f)[:300]}"))
        ws.on("framesent", lambda f: sockets.append(f"sent {str(f)[:200]}"))

    page.on("websocket", watch)
    page.on("console", lambda m: sockets.append(f"console {m.text}"))
    page.goto(url)
    return context, page


def panel(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Chat")


def log(page: Page) -> Locator:
    return page.get_by_role("log", name="Messages")


def send(page: Page, text: str) -> None:
    box = panel(page).get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def dump(value: Any) -> str:
    return json.dumps(value, indent=1)
