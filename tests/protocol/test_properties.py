"""Property tests: chunking never matters, encoding round-trips, snapshots equal fresh folds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from claudewire.protocol import EventStreamParser, ServerSentEvent, SSEDecoder, encode_event

from ..conftest import load_vector, vector_names

line_parts = st.sampled_from([b"data", b"event", b"id", b"retry", b":", b": ", b" ", b"x", b"1", b"\xc3\xa9", b"\xf0\x9f\x9a\x80",
                              b"\r", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\0", b"{}"])


def decode_all(chunks: list[bytes]) -> tuple[list[ServerSentEvent], ServerSentEvent | None]:
    decoder = SSEDecoder()
    events = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events, decoder.flush()


@settings(max_examples=400, deadline=None)
@given(st.lists(line_parts, max_size=80).map(b"".join), st.lists(st.integers(min_value=0, max_value=400), max_size=20))
def test_any_split_decodes_the_same(body: bytes, cuts: list[int]) -> None:
    cuts = sorted({c for c in cuts if 0 < c < len(body)})
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert decode_all(chunks) == decode_all([body])


names = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), min_size=1, max_size=20)
datas = st.text(st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(names, datas, st.none() | names, st.none() | st.integers(0, 10**9)), max_size=8))
def test_encode_then_decode_gives_back_the_events(events: list) -> None:
    body = b"".join(encode_event(e, d, id=i, retry=r) for e, d, i, r in events)
    decoded, rest = decode_all([body])
    assert rest is None
    last_id = None
    for (e, d, i, r), got in zip(events, decoded, strict=True):
        last_id = i if i is not None else last_id
        assert got == ServerSentEvent(e, d, last_id, r)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([n for n in vector_names() if n != "mid_stream_error"]))
def test_snapshot_after_each_event_equals_a_fresh_fold(name: str) -> None:
    body, _ = load_vector(name)
    sses, _ = decode_all([body])
    live = EventStreamParser()
    from claudewire.protocol import decode_event

    for k, sse in enumerate(sses):
        live.accumulator.feed(decode_event(sse))
        snapshot = live.message.to_dict()  # read after every event: syncs the buffers each time
        fresh = EventStreamParser()
        for earlier in sses[: k + 1]:
            fresh.accumulator.feed(decode_event(earlier))
        assert fresh.message.to_dict() == snapshot
