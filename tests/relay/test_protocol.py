"""The relay's wire protocol, with curl -N and raw sockets, over both stores."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time

import httpx2

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

from .helpers import HEADERS, RESUMABLE, RawStream, body, curl, frames, parse

STREAM_ID = re.compile(r"strm_[1-9A-HJ-NP-Za-km-z]{32}")


def start(server, text: str = "one two three four five", **headers: str) -> tuple[str, list[str]]:
    status, head, payload = curl(server.base_url + "/v1/messages", data=body(text), headers={**RESUMABLE, **headers})
    assert status == 200
    return head["x-claudewire-stream-id"], frames(payload)


def stream_url(server, stream_id: str, query: str = "") -> str:
    return f"{server.base_url}/v1/messages/streams/{stream_id}{query}"


def test_ids_on_every_event_and_the_plain_wire_unchanged(relay_server) -> None:
    stream_id, got = start(relay_server)
    assert STREAM_ID.fullmatch(stream_id)
    parsed = [parse(f) for f in got]
    assert [n for n, _, _ in parsed] == list(range(1, len(got) + 1)), "ids are the positions 1, 2, …"
    _, plain_head, plain = curl(relay_server.base_url + "/v1/messages", data=body())
    assert "x-claudewire-stream-id" not in plain_head and "id:" not in plain, "without the header the wire is the API's"
    assert [parse(f)[1:] for f in frames(plain)][1:] == [p[1:] for p in parsed][1:]  # same events (message ids differ)


def test_last_event_id_after_and_a_finished_stream(relay_server) -> None:
    stream_id, got = start(relay_server)
    for k in (0, 1, 4, len(got) - 1):
        _, head, replay = curl(stream_url(relay_server, stream_id), headers={"last-event-id": str(k)} if k else {})
        assert frames(replay) == got[k:], f"Last-Event-ID {k}: the events after it, byte for byte"
        assert head["content-type"].startswith("text/event-stream") and head["x-claudewire-stream-id"] == stream_id
        assert frames(curl(stream_url(relay_server, stream_id, f"?after={k}"))[2]) == got[k:]
    assert frames(curl(stream_url(relay_server, stream_id, "?after=1"), headers={"last-event-id": "3"})[2]) == got[3:], "the header wins"
    status, _, rest = curl(stream_url(relay_server, stream_id), headers={"last-event-id": str(len(got))})
    assert status == 204 and rest == "", "nothing left of a finished stream: 204, which also stops an EventSource"
    status, _, bad = curl(stream_url(relay_server, stream_id, "?after=x1"))
    assert status == 400 and '"invalid_request_error"' in bad and "after" in bad


def test_cut_after_every_event_index_over_a_raw_socket(relay_server) -> None:
    """Close the POST's socket after each event in turn; the GET after it completes the stream exactly."""
    paced = {**RESUMABLE, "x-claudewire-delay-ms": "20"}
    probe = RawStream(relay_server.port, body("a b c d"), paced)
    whole = probe.read_frames(10**6)
    probe.close()
    for k in range(1, len(whole)):
        raw = RawStream(relay_server.port, body("a b c d"), paced)
        head = raw.read_frames(k)
        raw.close()
        assert len(head) == k
        _, _, rest = curl(stream_url(relay_server, raw.headers["x-claudewire-stream-id"]), headers={"last-event-id": str(k)})
        resumed = head + frames(rest)
        assert [parse(f)[:2] for f in resumed] == [parse(f)[:2] for f in whole], f"cut after event {k}"
        assert [parse(f)[2] for f in resumed][1:] == [parse(f)[2] for f in whole][1:]


def test_another_key_unknown_and_expired_streams_are_404(relay_server) -> None:
    stream_id, _ = start(relay_server)
    status, _, other = curl(stream_url(relay_server, stream_id), headers={"x-api-key": "key-B"})
    status_unknown, _, unknown = curl(stream_url(relay_server, "strm_" + "x" * 32))
    assert status == status_unknown == 404
    assert json.loads(other)["error"] == {"type": "not_found_error", "message": f"stream: {stream_id}"}
    assert json.loads(unknown)["error"] == {"type": "not_found_error", "message": f"stream: strm_{'x' * 32}"}
    assert "expired" not in other, "another key's stream looks like no stream at all"
    assert curl(stream_url(relay_server, stream_id) + "/cancel", headers={"x-api-key": "key-B"}, method="POST")[0] == 404
    time.sleep(3.3)  # resume_ttl is 3 s here
    status, _, expired = curl(stream_url(relay_server, stream_id))
    assert status == 404 and '"not_found_error"' in expired and "expired" in expired and "--resume-ttl" in expired
    assert "expired" not in curl(stream_url(relay_server, stream_id), headers={"x-api-key": "key-B"})[2]


def test_cancel_ends_every_reader_with_a_documented_error(relay_server) -> None:
    slow = {**RESUMABLE, "x-claudewire-delay-ms": "100"}
    words = " ".join(f"w{i}" for i in range(60))
    reader = RawStream(relay_server.port, body(words), slow)
    reader.read_frames(4)
    stream_id = reader.headers["x-claudewire-stream-id"]
    follower = subprocess.Popen(["curl", "-sN", stream_url(relay_server, stream_id)] + sum((["-H", f"{k}: {v}"] for k, v in HEADERS.items()), []),
                                stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    status, _, answer = curl(stream_url(relay_server, stream_id) + "/cancel", method="POST")
    assert status == 200 and '"state":"cancelled"' in answer
    followed = frames(follower.communicate(timeout=10)[0])
    first = reader.read_frames(10**6)
    reader.close()
    for got in (first, followed):
        last_id, name, data = parse(got[-1])
        assert name == "error" and data["error"]["type"] == "stream_cancelled_error" and last_id == len(got)
        assert sum(1 for f in got if parse(f)[1] == "content_block_delta") < 60
    assert followed == first, "every reader got every event once, the same bytes"
    assert curl(stream_url(relay_server, stream_id), headers={"last-event-id": str(len(first))})[0] == 204
    assert '"state":"cancelled"' in curl(stream_url(relay_server, stream_id) + "/cancel", method="POST")[2]  # idempotent


def test_fan_out_and_idle_pings_without_ids(relay_server) -> None:
    """Three readers of a live stream get the same events; a stall sends pings with no id."""
    headers = {**RESUMABLE, "x-claudewire-fault": "stall_after=2; seconds=1"}
    raw = RawStream(relay_server.port, body("a b c d e"), headers)
    raw.read_frames(1)
    stream_id = raw.headers["x-claudewire-stream-id"]
    results: list[str] = []

    def read() -> None:
        with httpx2.stream("GET", stream_url(relay_server, stream_id), headers=HEADERS, timeout=30) as response:
            results.append(response.read().decode())

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    own = raw.read_frames(10**6)
    raw.close()
    for thread in threads:
        thread.join(30)
    assert len(results) == 3
    for result in results:
        events = [f for f in frames(result) if parse(f)[0] is not None]
        assert events == [f for f in own if parse(f)[0] is not None], "each reader: every event once"
    keepalive = [f for f in own + frames(results[0]) if parse(f)[0] is None]
    assert keepalive and all(parse(f)[1] == "ping" for f in keepalive), "idle pings carry no id (Last-Event-ID stays put)"


def test_same_authentication_as_post() -> None:
    with ServerThread(ScriptedBackend(), api_key="server-secret") as server:
        good = {"x-api-key": "server-secret"}
        stream_id = curl(server.base_url + "/v1/messages", data=body(), headers={**RESUMABLE, **good})[1]["x-claudewire-stream-id"]
        assert curl(stream_url(server, stream_id), headers=good)[0] == 200
        for wrong in ({"x-api-key": "wrong"}, {"x-api-key": ""}):
            status, _, payload = curl(stream_url(server, stream_id), headers=wrong)
            assert status == 401 and "authentication_error" in payload and "server-secret" not in payload
        assert curl(stream_url(server, stream_id), headers={"x-api-key": "", "authorization": "Bearer server-secret"})[0] == 200
