"""The client on the wire: what it sends, the shared transcripts over real HTTP in adversarial
chunks, a connection broken mid-body, and the API key never showing anywhere."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import claudewire
from claudewire.server.run import ServerThread

from ..conftest import load_vector, vector_names
from ..protocol.chunkings import bytewise, inside_multibyte, random_splits
from ..rawhttp import RawServer, read_request
from .helpers import KEY, KINDS, client, params, stream


def test_headers_like_the_official_sdk() -> None:
    seen: list[dict[str, str]] = []

    async def record(request: Request) -> JSONResponse:
        seen.append(dict(request.headers))
        return JSONResponse({"input_tokens": 1})

    app = Starlette(routes=[Route("/v1/messages/count_tokens", record, methods=["POST"])])
    with ServerThread(app=app) as server:
        client("sync", server).messages.count_tokens(model="m", messages=[])
        client("sync", server, api_version="2023-06-01", default_headers={"x-team": "a"}).messages.count_tokens(model="m", messages=[])
    first, second = seen
    assert first["authorization"] == f"Bearer {KEY}" and "x-api-key" not in first
    assert first["anthropic-version"] == "2026-10-21" and first["accept"] == "application/json"
    assert first["content-type"] == "application/json" and first["x-stainless-retry-count"] == "0"
    assert second["anthropic-version"] == "2023-06-01" and second["x-team"] == "a"


class ChunkedServer(RawServer):
    """A raw HTTP/1.1 server that writes a body in exactly the given pieces (TCP_NODELAY, a
    pause between writes), then either ends it or breaks the connection."""

    def __init__(self) -> None:
        super().__init__(backlog=16)
        self.pieces: list[bytes] = []
        self.break_after = False
        self.close_delimited = False  # no chunked framing: the body ends when the connection closes
        self.start()

    def handle(self, conn: socket.socket) -> None:  # an OSError is the client leaving early (it saw an error event): fine
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if read_request(conn) is None:
            return
        framing = b"" if self.close_delimited else b"transfer-encoding: chunked\r\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nrequest-id: req_raw\r\n"
                     + framing + b"connection: close\r\n\r\n")
        if self.close_delimited:
            for piece in self.pieces:
                conn.sendall(piece)
                time.sleep(0.002)
            return
        for piece in self.pieces:
            if piece:
                conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                time.sleep(0.0002)
        if self.break_after:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return  # close with RST, mid-body
        conn.sendall(b"0\r\n\r\n")


@pytest.fixture(scope="module")
def raw_server() -> Iterator[ChunkedServer]:
    server = ChunkedServer()
    yield server
    server.close()


def chunkings_for(body: bytes, ending: str) -> Iterator[tuple[str, list[bytes]]]:
    if ending == "lf":
        yield "bytewise", bytewise(body)
    yield "multibyte", inside_multibyte(body)
    for seed in range(3):
        yield f"random-{seed}", random_splits(body, seed)


@pytest.mark.parametrize("name", vector_names())
@pytest.mark.parametrize("kind", KINDS)
def test_transcripts_over_real_http(kind, name, raw_server) -> None:
    body, expect = load_vector(name)
    for ending, variant in (("lf", body), ("crlf", body.replace(b"\n", b"\r\n"))):
        for how, pieces in chunkings_for(variant, ending):
            raw_server.pieces, raw_server.break_after = pieces, False
            out = stream(kind, raw_server, options={"max_retries": 0}, **params())
            assert out.text == expect["text_stream"], (name, ending, how)
            if "message" in expect:
                assert out.error is None, (name, how, out.error)
                got = out.message.to_dict()
                for key, value in expect["message"].items():
                    if key == "content":
                        for got_block, want in zip(got["content"], value, strict=True):
                            assert {k: got_block.get(k) for k in want} == want
                    else:
                        assert got.get(key) == value, (name, key)
            else:
                error = out.error
                assert type(error).__name__ == expect["error"]["class"] and error.type == expect["error"]["type"]
                partial = "".join(b.text for b in error.partial_message.content if b.type == "text")
                assert partial == expect["error"]["partial_text"]


@pytest.mark.parametrize("kind", KINDS)
def test_connection_broken_mid_body(kind, raw_server) -> None:
    body, _ = load_vector("docs_text")
    cut = body.index(b"event: content_block_stop")
    raw_server.pieces, raw_server.break_after = [body[:cut]], True
    out = stream(kind, raw_server, options={"max_retries": 0}, **params())
    assert isinstance(out.error, claudewire.APIConnectionError)
    assert out.error.partial_message.content[0].text == "Hello!"
    assert out.error.__cause__ is not None and type(out.error).__module__.startswith("claudewire")


def test_protocol_error_in_a_stream_is_typed(raw_server) -> None:
    raw_server.pieces, raw_server.break_after = [
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"x",'
        b'"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":4,"delta":{"type":"text_delta","text":"x"}}\n\n'
    ], False
    out = stream("sync", raw_server, **params())
    assert isinstance(out.error, claudewire.StreamProtocolError) and "index 4" in str(out.error)


def test_the_key_never_appears(scripted_server, caplog, capfd) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx2", "httpcore", "httpcore2", "claudewire", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test, unlike setLevel
    seen: list[str] = []
    for kind in KINDS:
        c = client(kind, scripted_server)
        seen += [repr(c), str(c), repr(c._options), repr(c._options.api_key)]
        out = stream(kind, scripted_server, **params(extra_headers={"x-claudewire-fault": "error_after=1"}))
        seen += [str(out.error), repr(out.error), repr(out.error.body), repr(out.error.partial_message)]
        out = stream(kind, scripted_server, options={"max_retries": 0}, **params(model="nope"))
        seen += [str(out.error), repr(out.error), repr(out.error.response)]
    try:
        asyncio.run(_refused())
    except claudewire.APIConnectionError as exc:
        seen += [str(exc), repr(exc)]
    captured = capfd.readouterr()
    everything = "\n".join(seen) + caplog.text + captured.out + captured.err
    assert caplog.text  # DEBUG logging really ran
    assert KEY not in everything and KEY[10:30] not in everything


async def _refused() -> None:
    c = claudewire.AsyncAnthropic(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    await c.messages.count_tokens(model="m", messages=[])


def test_the_key_never_appears_in_cli_output(scripted_server) -> None:
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": scripted_server.base_url, "PATH": "/usr/bin:/bin"}
    for args in (["hello key"], ["hello", "--raw"], ["hello", "--json"], ["hello", "--model", "nope"]):
        done = subprocess.run([sys.executable, "-m", "claudewire.cli", "chat", *args], capture_output=True, text=True, env=env, timeout=60)
        assert KEY not in done.stdout + done.stderr
    assert "NotFoundError" in done.stderr and done.returncode == 1 and "Traceback" not in done.stderr

