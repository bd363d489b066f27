"""The one HTTP client for calls made on someone's behalf: guarded at connect time, time- and size-capped.

httpx does the HTTP; connections go through :class:`GuardedBackend`, which resolves the host once through
the :class:`~helpline.outbound.guard.OutboundGuard`, refuses if any address is refused, and connects to a
checked address. The URL keeps its hostname, so the ``Host`` header, TLS SNI and certificate checks all
use it. Redirects are never followed (a 3xx is the caller's failure), proxies from the environment are
ignored, and every call has a total deadline and reads at most a fixed number of bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from helpline import __version__
from helpline.config import Settings
from helpline.outbound.guard import OutboundGuard, OutboundRefused

USER_AGENT = f"Helpline/{__version__}"


@dataclass(slots=True, frozen=True)
class Response:
    """What a POST got back, as much as the delivery log keeps."""

    status: int
    excerpt: str
    latency_ms: float
    location: str | None = None


class OutboundFailed(Exception):
    """The call did not complete: network error, timeout, too large, unexpected status. Worth retrying."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutboundTimeout(OutboundFailed):
    pass


class ResponseTooLarge(OutboundFailed):
    pass


class BadStatus(OutboundFailed):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# -- the guarded connection layer --------------------------------------------------------------------


class _ClosingStream(httpcore.AsyncNetworkStream):
    """A TCP stream that closes itself when the TLS handshake over it fails or is cancelled.

    httpcore leaves the socket open if the handshake is cancelled (a caller's deadline), to be found by
    the garbage collector; this closes it at once.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self.inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self.inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self.inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        try:
            return await self.inner.start_tls(ssl_context, server_hostname, timeout)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.inner.aclose())
            raise

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host at connect time, then connects to the checked address itself."""

    def __init__(self, guard: OutboundGuard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self.guard.resolve(host, port)
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        last: Exception | None = None
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return _ClosingStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused(f"refused to connect to the unix socket {path}: outbound calls use TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        for source, target in _ERRORS:  # most specific first
            if isinstance(error, source):
                raise target(str(error)) from error
        raise


class _Stream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            with _httpx_errors():
                await close()


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport over an httpcore pool whose connections are made by :class:`GuardedBackend`."""

    def __init__(self, guard: OutboundGuard, ssl_context: ssl.SSLContext, max_connections: int = 100) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max(1, max_connections // 5),
            keepalive_expiry=30.0,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(guard),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = await self._pool.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Stream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


# -- the client --------------------------------------------------------------------------------------


def _describe(error: httpx.HTTPError) -> str:
    text = str(error).strip()
    name = type(error).__name__
    return f"{name}: {text}" if text else name


async def _read(response: httpx.Response, limit: int, *, truncate: bool) -> bytes:
    """Up to ``limit`` bytes of the body; past it, stop reading and either cut or refuse."""
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(f"the response is {int(declared)} bytes, more than the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            if truncate:
                break
            raise ResponseTooLarge(f"the response is larger than the {limit}-byte limit")
        if size == limit and truncate:
            break
    return b"".join(chunks)[:limit]


class OutboundHttp:
    """One pooled httpx client for webhooks, bot calls, hookpoints and fetched URLs. Close with ``aclose``."""

    def __init__(
        self,
        guard: OutboundGuard,
        settings: Settings | None = None,
        *,
        timeout: float | None = None,
        excerpt_bytes: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
    ) -> None:
        """``timeout`` (total seconds per POST) and ``excerpt_bytes`` default to the settings'
        ``webhook_timeout`` and ``response_excerpt_bytes``; ``ssl_context`` to the system's CAs (or
        ``SSL_CERT_FILE``)."""
        defaults = settings or Settings()
        self.guard = guard
        self.timeout = defaults.webhook_timeout if timeout is None else timeout
        self.excerpt_bytes = defaults.response_excerpt_bytes if excerpt_bytes is None else excerpt_bytes
        context = ssl_context or httpx.create_ssl_context(trust_env=True)
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(guard, context, max_connections),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.timeout),
            headers={"user-agent": USER_AGENT, "accept-encoding": "identity"},
        )

    @classmethod
    def from_settings(cls, settings: Settings, ssl_context: ssl.SSLContext | None = None) -> OutboundHttp:
        return cls(OutboundGuard(settings.outbound_allow), settings, ssl_context=ssl_context)

    async def post_json(
        self,
        url: str,
        body: str,
        headers: Mapping[str, str],
        timeout: float | None = None,  # noqa: ASYNC109 -- a total deadline, applied with asyncio.timeout
    ) -> Response:
        """POST ``body``; any status comes back as a :class:`Response` (the caller judges it).

        Raises :class:`OutboundRefused` (the guard said no: don't retry) or :class:`OutboundFailed`
        (no complete answer within ``timeout`` seconds in total: worth retrying).
        """
        return await self.post(url, body.encode("utf-8"), headers, timeout)

    async def post(
        self,
        url: str,
        content: bytes | AsyncIterable[bytes],
        headers: Mapping[str, str],
        timeout: float | None = None,  # noqa: ASYNC109 -- a total deadline, applied with asyncio.timeout
    ) -> Response:
        """POST raw bytes, or a stream of them (give its ``content-length`` in ``headers`` to send it
        unchunked), with the caller's ``content-type``; otherwise as :meth:`post_json`."""
        target = self.guard.check_url(url)
        limit = self.timeout if timeout is None else timeout
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit):
                request = self._client.build_request(
                    "POST", target, content=content, headers=dict(headers), timeout=limit
                )
                response = await self._client.send(request, stream=True)
                try:
                    raw = await _read(response, self.excerpt_bytes, truncate=True)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise OutboundTimeout(f"no complete answer from {target.host} within {limit:g} s") from None
        except httpx.TimeoutException as error:
            raise OutboundTimeout(f"timed out talking to {target.host} ({_describe(error)})") from None
        except httpx.HTTPError as error:
            raise OutboundFailed(_describe(error)) from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        return Response(
            status=response.status_code,
            excerpt=raw.decode("utf-8", errors="replace"),
            latency_ms=round(latency_ms, 3),
            location=response.headers.get("location"),
        )

    async def get(
        self,
        url: str,
        max_bytes: int,
        timeout: float,  # noqa: ASYNC109 -- a total deadline, applied with asyncio.timeout
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """GET a body of at most ``max_bytes`` within ``timeout`` seconds in total, from a 2xx answer.

        Raises :class:`OutboundRefused`, :class:`OutboundTimeout`, :class:`ResponseTooLarge`,
        :class:`BadStatus` (non-2xx, redirects included) or :class:`OutboundFailed`.
        """
        target = self.guard.check_url(url)
        try:
            async with asyncio.timeout(timeout):
                request = self._client.build_request(
                    "GET", target, headers=dict(headers or {}), timeout=timeout
                )
                response = await self._client.send(request, stream=True)
                try:
                    status = response.status_code
                    if 300 <= status < 400:
                        where = response.headers.get("location", "?")
                        raise BadStatus(status, f"answered HTTP {status} (redirect to {where}, not followed)")
                    if not 200 <= status < 300:
                        raise BadStatus(status, f"answered HTTP {status}")
                    return await _read(response, max_bytes, truncate=False)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise OutboundTimeout(f"no complete answer from {target.host} within {timeout:g} s") from None
        except httpx.TimeoutException as error:
            raise OutboundTimeout(f"timed out talking to {target.host} ({_describe(error)})") from None
        except httpx.HTTPError as error:
            raise OutboundFailed(_describe(error)) from None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> OutboundHttp:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
