"""A webhook receiver for ``python -m bench --webhook``: answers every POST with 204 and counts them.

Deliberately small (asyncio streams, no framework) so that what it costs the machine is little next to
the two systems measured. ``GET /healthz`` says it is up; ``GET /count`` gives how many POSTs arrived.

    python -m bench.receiver --port 9100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal

NO_CONTENT = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class Receiver:
    def __init__(self) -> None:
        self.posts = 0

    async def serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in header_lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                method, path = request_line.split(" ")[:2]
                if method == "POST":
                    self.posts += 1
                    writer.write(NO_CONTENT)
                else:
                    body = json.dumps(
                        {"status": "ok"} if path == "/healthz" else {"posts": self.posts}
                    ).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        + f"content-length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                await writer.drain()
        writer.close()


async def main_async(port: int) -> None:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.serve_connection, "127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.receiver", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
