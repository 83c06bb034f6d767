"""Every way a body can be cut into chunks, for the decoders to prove they do not care."""

from __future__ import annotations

import random
from collections.abc import Iterator


def whole(body: bytes) -> list[bytes]:
    return [body]


def bytewise(body: bytes) -> list[bytes]:
    return [body[i : i + 1] for i in range(len(body))]


def random_splits(body: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(body)), min(len(body) - 1, rng.randrange(1, 60))))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    cuts = sorted(set(c for c in cuts if 0 < c < len(body)))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]


def inside_crlf(body: bytes) -> list[bytes]:
    """Cut between every CR and its LF."""
    cuts, i = [], body.find(b"\r\n")
    while i != -1:
        cuts.append(i + 1)
        i = body.find(b"\r\n", i + 2)
    return split_at(body, cuts)


def inside_multibyte(body: bytes) -> list[bytes]:
    """Cut after the first byte of every multi-byte UTF-8 character."""
    return split_at(body, [i + 1 for i, b in enumerate(body) if b >= 0xC0])


def chunkings(body: bytes) -> Iterator[tuple[str, list[bytes]]]:
    yield "whole", whole(body)
    yield "bytewise", bytewise(body)
    for seed in range(8):
        yield f"random-{seed}", random_splits(body, seed)
    yield "inside-crlf", inside_crlf(body)
    yield "inside-multibyte", inside_multibyte(body)


def line_endings(body: bytes) -> Iterator[tuple[str, bytes]]:
    yield "lf", body
    yield "crlf", body.replace(b"\n", b"\r\n")
    yield "cr", body.replace(b"\n", b"\r")
