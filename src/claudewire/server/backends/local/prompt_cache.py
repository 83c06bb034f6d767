"""Slots' KV entries kept in host memory once the slot moves on (llama-server's ``--cache-ram``).

A slot holds the KV entries of the last prompt it read. With more conversations than slots,
the next turn of one whose slot was taken would read its whole history again: seconds, for
a long one. So before a slot's entries are overwritten they are copied out
(``llama_state_seq_get_data``: only that sequence's cells, some 23 KB a token for SmolLM2),
and a request whose prompt shares a longer prefix with a saved state than with any free slot
gets that state copied back (a millisecond or so) and reads only the rest. The least recently
used states go first once ``limit`` bytes are held. Everything here runs on the engine's
thread, between steps.
"""

from __future__ import annotations

import ctypes
import mmap
from dataclasses import dataclass

import llama_cpp

WORTH_SAVING = 32  # fewer tokens than this are quicker to read again than to keep


# A state is megabytes, copied out while requests wait to start. Memory mapped with its pages
# populated at once costs a third less than a fresh ctypes array (zeroed, then faulted in page
# by page as llama.cpp writes it): 1.5 against 2.2 ms for 170 tokens here.
def _buffer(size: int) -> ctypes.Array:
    """``size`` bytes for llama.cpp to write into (the array keeps its mapping alive)."""
    if not hasattr(mmap, "MAP_POPULATE"):  # Linux only
        return (ctypes.c_uint8 * size)()
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE
    return (ctypes.c_uint8 * size).from_buffer(mmap.mmap(-1, size, flags=flags))


def shared_prefix(a: list[int], b: list[int]) -> int:
    """How many tokens ``a`` and ``b`` share at their start (slices compared in C, by halves)."""
    low, high = 0, min(len(a), len(b))
    if a[:high] == b[:high]:  # the common case: the next turn of a conversation
        return high
    while low < high:  # a[:low] == b[:low], and they differ before ``high``
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(eq=False)
class Saved:
    tokens: list[int]
    state: ctypes.Array  # the sequence's cells, as llama.cpp serializes them

    @property
    def size(self) -> int:
        return len(self.state)


class PromptCache:
    def __init__(self, ctx: ctypes.c_void_p, limit: int) -> None:
        self.ctx = ctx
        self.limit = limit  # bytes; 0 turns the cache off
        self.held = 0
        self._saved: list[Saved] = []  # least recently used first
        self.hits = 0

    def __len__(self) -> int:
        return len(self._saved)

    def wants(self, tokens: list[int]) -> bool:
        """Whether a sequence holding ``tokens`` is worth a copy (the cache is on, and it is long enough)."""
        return self.limit > 0 and len(tokens) >= WORTH_SAVING

    def save(self, seq: int, tokens: list[int]) -> None:
        """Copies out a sequence about to be overwritten (unless a saved state already covers it)."""
        if not self.wants(tokens):
            return
        for saved in list(self._saved):
            if len(saved.tokens) >= len(tokens) and saved.tokens[: len(tokens)] == tokens:
                self._touch(saved)
                return  # already held, whole
            if saved.tokens == tokens[: len(saved.tokens)]:
                self._drop(saved)  # this one goes further
        size = llama_cpp.llama_state_seq_get_size(self.ctx, seq)
        if size > self.limit:
            return
        state = _buffer(size)
        written = llama_cpp.llama_state_seq_get_data(self.ctx, state, size, seq)
        if written != size:
            return
        self._saved.append(Saved(list(tokens), state))
        self.held += size
        while self.held > self.limit:
            self._drop(self._saved[0])

    def best(self, prompt: list[int]) -> tuple[Saved | None, int]:
        """The saved state sharing the longest prefix with ``prompt``, and that length."""
        best, length = None, 0
        for saved in self._saved:
            shared = shared_prefix(saved.tokens, prompt)
            if shared > length:
                best, length = saved, shared
        return best, length

    def restore(self, saved: Saved, seq: int) -> bool:
        """Writes a saved state into an emptied sequence; False if llama.cpp had no room for it."""
        if llama_cpp.llama_state_seq_set_data(self.ctx, saved.state, saved.size, seq) != saved.size:
            return False
        self.hits += 1
        self._touch(saved)
        return True

    def _touch(self, saved: Saved) -> None:
        self._saved.remove(saved)
        self._saved.append(saved)

    def _drop(self, saved: Saved) -> None:
        self._saved.remove(saved)
        self.held -= saved.size
