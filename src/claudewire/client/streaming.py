"""Streams over HTTP responses: raw event streams and the MessageStream helpers.

``StreamCore`` holds every decision (parse, in-band errors, cut streams, deadlines) and
does no I/O; the sync and async classes below only read chunks, feed them in and hand on
what comes back, so the two stay a few lines each.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any, Generic, TypeVar

import httpx2

from .._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    IncompleteStreamError,
    StreamCancelledError,
    StreamProtocolError,
    in_band_error,
)
from ..protocol import EventStreamParser, ProtocolError
from ..protocol.events import MessageStreamEvent, TextEvent
from ..protocol.types import ErrorEvent, Message, TextBlock
from ..protocol.wire import is_retryable
from ._transport import connection_error, transport_errors
from .resume import CANCELLED_ERROR, Reconnect, Resumer

__all__ = ["Stream", "AsyncStream", "MessageStream", "AsyncMessageStream", "MessageStreamManager", "AsyncMessageStreamManager"]

E = TypeVar("E")


class StreamCore:
    """The state of one streamed response, sans-IO."""

    def __init__(
        self,
        response: httpx2.Response,
        *,
        raw: bool,
        total_timeout: float | None,
        resumer: Resumer | None = None,
        after: int = 0,
    ) -> None:
        self.response = response
        self.parser = EventStreamParser()
        self.raw = raw
        self.deadline = None if total_timeout is None else time.monotonic() + total_timeout
        self.finished = False
        self.stopped = False  # ended by our own cancel(): a clean stop
        self.failure: APIError | None = None
        self.on_bytes: Any = None  # an optional tap on the raw body (the CLI's --raw)
        self.on_reconnect: Any = None  # sees each planned Reconnect (the CLI's "reconnecting…")
        self.resumer = resumer  # set when the server offered resume (client/resume.py)
        self.after = after  # resume(after=n): events up to n build the snapshot, unseen
        self.broken_by: APIError | None = None

    @property
    def request_id(self) -> str | None:
        return self.response.headers.get("request-id")

    @property
    def snapshot(self) -> Message | None:
        try:
            return self.parser.message
        except ProtocolError:
            return None

    def feed(self, chunk: bytes) -> Iterator[Any]:
        """The events to deliver from one chunk, one at a time, so the snapshot never runs
        ahead of the event being handled. An in-band ``event: error`` ends them and is kept
        in ``failure``, to be raised (``raise_failure``) once the earlier ones are delivered."""
        self.check_deadline()
        if self.on_bytes is not None:
            self.on_bytes(chunk)
        resumer = self.resumer
        try:
            for event in self.parser.iter_events(chunk, raw=self.raw, after=self.after):
                if type(event) is ErrorEvent:
                    self.finished = True
                    self.failure = self._in_band(event)
                    return
                if resumer is not None:
                    resumer.failed = 0  # progress: the retry budget is for reconnects in a row
                yield event
        except ProtocolError as exc:
            self.finished = True
            raise StreamProtocolError(str(exc), partial_message=self.snapshot, request_id=self.request_id) from exc

    def _in_band(self, event: ErrorEvent) -> APIError | None:
        body = event.to_dict()
        if self.resumer is not None and event.error.type == CANCELLED_ERROR:
            if self.resumer.cancelled:
                self.stopped = True
                return None
            return StreamCancelledError(
                f"{CANCELLED_ERROR}: {event.error.message}", status_code=499, response=self.response, body=body,
                request_id=event.request_id or self.request_id, partial_message=self.snapshot,
            )
        return in_band_error(body, response=self.response, request_id=self.request_id, partial_message=self.snapshot)

    # -- resuming a broken stream (only when the server offered it) ---------------------

    def broken(self, error: APIConnectionError) -> Reconnect:
        """The body broke (cut, transport error, idle timeout): the reconnect to make, or
        ``error`` raised (no resume offered, our own cancel, or the deadline has passed)."""
        if self.resumer is None or self.stopped or (self.deadline is not None and time.monotonic() > self.deadline):
            raise error
        self.broken_by = error
        return self._plan()

    def reconnected(self, outcome: httpx2.Response | APIConnectionError) -> Reconnect | None:
        """The answer to a reconnect: None once the new body is in place, else the next
        reconnect. When resuming fails for good the original break is raised."""
        assert self.broken_by is not None and self.resumer is not None
        if isinstance(outcome, httpx2.Response):
            status = outcome.status_code
            if status in (200, 204):  # 204: the stream ended with nothing after our last event
                self.response = outcome
                self.parser.restart_body()
                self.finished = False
                return None
            if not is_retryable(status):  # the stream is gone (404: expired, unknown)
                self.broken_by.add_note(f"resuming stream {self.resumer.stream_id} failed: HTTP {status}")
                raise self.broken_by
        return self._plan()

    def _plan(self) -> Reconnect:
        assert self.resumer is not None and self.broken_by is not None
        plan = self.resumer.plan(self.broken_by, self.parser.last_event_id, self.remaining())
        if self.on_reconnect is not None:
            self.on_reconnect(plan)
        return plan

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def end(self) -> None:
        """The body ended: complete (a stop_reason arrived) or an ``IncompleteStreamError``."""
        self.finished = True
        self.parser.close()
        if not self.parser.complete and not self.stopped:
            raise IncompleteStreamError(
                "The stream ended before the message was complete (no message_delta with a stop_reason).",
                partial_message=self.snapshot,
                request_id=self.request_id,
            )

    def transport_error(self, exc: Exception) -> APIError:
        self.finished = True
        return connection_error(exc, partial=self.snapshot, request_id=self.request_id)

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.finished = True
            raise APITimeoutError(message="The stream exceeded its total deadline.", partial_message=self.snapshot, request_id=self.request_id)

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


# --- raw event streams: messages.create(stream=True) --------------------------------------


class _StreamBase:
    _core: StreamCore

    @property
    def response(self) -> httpx2.Response:
        return self._core.response

    @property
    def request_id(self) -> str | None:
        return self._core.request_id

    @property
    def on_bytes(self) -> Any:
        """An optional tap that sees every raw chunk of the body (the CLI's ``--raw``)."""
        return self._core.on_bytes

    @on_bytes.setter
    def on_bytes(self, tap: Any) -> None:
        self._core.on_bytes = tap

    @property
    def on_reconnect(self) -> Any:
        """An optional callback, called before each reconnect of a broken resumable stream."""
        return self._core.on_reconnect

    @on_reconnect.setter
    def on_reconnect(self, callback: Any) -> None:
        self._core.on_reconnect = callback

    @property
    def stream_id(self) -> str | None:
        """The resumable stream's id (``x-claudewire-stream-id``); None when not resumable."""
        resumer = self._core.resumer
        return None if resumer is None else resumer.stream_id

    def _cancel_call(self) -> Any:
        resumer = self._core.resumer
        if resumer is None:
            raise RuntimeError("only a resumable stream can be cancelled on the server (Anthropic(resumable=True)); use close()")
        resumer.cancelled = True
        return resumer.cancel_call()


class Stream(_StreamBase, Generic[E]):
    """Iterates the raw events of a streamed response (``messages.create(stream=True)``)."""

    def __init__(
        self, response: httpx2.Response, *, raw: bool = True, total_timeout: float | None = None, client: Any = None, after: int = 0
    ) -> None:
        self._client = client
        resumer = None if client is None else client._resumer(response)
        self._core = StreamCore(response, raw=raw, total_timeout=total_timeout, resumer=resumer, after=after)
        self._iterator = self._events()

    def _events(self) -> Generator[Any, None, None]:
        core = self._core
        try:
            while True:
                try:
                    with transport_errors(core.transport_error):
                        for chunk in core.response.iter_bytes():  # content-encoding decoded (a compressing proxy)
                            yield from core.feed(chunk)
                            core.raise_failure()
                            if core.stopped:
                                break
                    core.end()
                    return
                except APIConnectionError as exc:  # cut, transport error, idle timeout
                    plan: Reconnect | None = core.broken(exc)
                core.response.close()
                while plan is not None:
                    time.sleep(plan.delay)
                    plan = core.reconnected(self._client._reconnect(plan.request))
        finally:
            core.response.close()

    def __iter__(self) -> Iterator[E]:
        return self._iterator

    def __next__(self) -> E:
        return next(self._iterator)

    def __enter__(self) -> Stream[E]:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection now; the server sees the client leave."""
        self._iterator.close()
        self._core.response.close()

    def cancel(self) -> None:
        """Stop the generation on the server (a resumable stream): every reader's stream ends,
        this one cleanly, keeping the partial message."""
        self._client._request(self._cancel_call())


class AsyncStream(_StreamBase, Generic[E]):
    def __init__(
        self, response: httpx2.Response, *, raw: bool = True, total_timeout: float | None = None, client: Any = None, after: int = 0
    ) -> None:
        self._client = client
        resumer = None if client is None else client._resumer(response)
        self._core = StreamCore(response, raw=raw, total_timeout=total_timeout, resumer=resumer, after=after)
        self._iterator = self._events()

    async def _events(self) -> AsyncGenerator[Any, None]:
        import asyncio

        core = self._core
        try:
            while True:
                try:
                    chunks = core.response.aiter_bytes().__aiter__()  # content-encoding decoded
                    while True:
                        try:
                            with transport_errors(core.transport_error):
                                async with asyncio.timeout(core.remaining()):
                                    chunk = await chunks.__anext__()
                        except StopAsyncIteration:
                            break
                        except TimeoutError:
                            core.check_deadline()
                            raise
                        for event in core.feed(chunk):
                            yield event
                        core.raise_failure()
                        if core.stopped:
                            break
                    core.end()
                    return
                except APIConnectionError as exc:  # cut, transport error, idle timeout
                    plan: Reconnect | None = core.broken(exc)
                await core.response.aclose()
                while plan is not None:
                    await asyncio.sleep(plan.delay)
                    plan = core.reconnected(await self._client._reconnect(plan.request))
        finally:
            await core.response.aclose()

    def __aiter__(self) -> AsyncIterator[E]:
        return self._iterator

    async def __anext__(self) -> E:
        return await self._iterator.__anext__()

    def __iter__(self) -> Any:
        raise TypeError("an async stream is read with `async for` inside a coroutine (run it with asyncio.run(main()))")

    async def __aenter__(self) -> AsyncStream[E]:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self._iterator.aclose()
        await self._core.response.aclose()

    aclose = close

    async def cancel(self) -> None:
        """Stop the generation on the server (a resumable stream): every reader's stream ends,
        this one cleanly, keeping the partial message."""
        await self._client._request(self._cancel_call())


# --- MessageStream helpers: messages.stream() -----------------------------------------


class _MessageStreamBase(_StreamBase):
    @property
    def current_message_snapshot(self) -> Message:
        message = self._core.snapshot
        if message is None:
            raise RuntimeError("no message_start has arrived yet")
        return message

    def _final_message(self) -> Message:
        message = self._core.snapshot
        if message is not None and self._core.stopped:
            return message  # we cancelled it: the partial message is the final one (stop_reason None)
        if message is None or not self._core.parser.complete:
            raise RuntimeError("the stream was closed before its message was complete; see current_message_snapshot")
        return message

    def _final_text(self) -> str:
        texts = [b.text for b in self._final_message().content if isinstance(b, TextBlock)]
        if not texts:
            raise RuntimeError("Expected to have received at least 1 text block")
        return "".join(texts)


class MessageStream(_MessageStreamBase, Stream[MessageStreamEvent]):
    """What ``with client.messages.stream(...) as stream`` gives: events, text and the final message."""

    def __init__(self, response: httpx2.Response, *, total_timeout: float | None = None, client: Any = None, after: int = 0) -> None:
        super().__init__(response, raw=False, total_timeout=total_timeout, client=client, after=after)

    @property
    def text_stream(self) -> Iterator[str]:
        """Each text delta as it arrives (fragments, not the accumulated text)."""
        return (event.text for event in self._iterator if type(event) is TextEvent)

    def until_done(self) -> None:
        for _ in self._iterator:
            pass

    def get_final_message(self) -> Message:
        self.until_done()
        return self._final_message()

    def get_final_text(self) -> str:
        self.until_done()
        return self._final_text()


class AsyncMessageStream(_MessageStreamBase, AsyncStream[MessageStreamEvent]):
    def __init__(self, response: httpx2.Response, *, total_timeout: float | None = None, client: Any = None, after: int = 0) -> None:
        super().__init__(response, raw=False, total_timeout=total_timeout, client=client, after=after)

    @property
    def text_stream(self) -> AsyncIterator[str]:
        async def texts() -> AsyncIterator[str]:
            async for event in self._iterator:
                if type(event) is TextEvent:
                    yield event.text

        return texts()

    async def until_done(self) -> None:
        async for _ in self._iterator:
            pass

    async def get_final_message(self) -> Message:
        await self.until_done()
        return self._final_message()

    async def get_final_text(self) -> str:
        await self.until_done()
        return self._final_text()


class MessageStreamManager:
    """``client.messages.stream(...)``: the request is made when the ``with`` block starts."""

    def __init__(self, open_stream: Any) -> None:
        self._open = open_stream
        self._stream: MessageStream | None = None

    def __enter__(self) -> MessageStream:
        self._stream = self._open()
        return self._stream

    def __exit__(self, *exc: Any) -> None:
        if self._stream is not None:
            self._stream.close()


class AsyncMessageStreamManager:
    def __init__(self, open_stream: Any) -> None:
        self._open = open_stream
        self._stream: AsyncMessageStream | None = None

    async def __aenter__(self) -> AsyncMessageStream:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(self, *exc: Any) -> None:
        if self._stream is not None:
            await self._stream.close()

    def __enter__(self) -> Any:
        raise TypeError("AsyncAnthropic streams are opened with `async with client.messages.stream(...)` inside a coroutine")

    def __exit__(self, *exc: Any) -> None:  # pragma: no cover - __enter__ always raises
        pass

