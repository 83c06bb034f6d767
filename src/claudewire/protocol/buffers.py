"""Append-only fragment buffers: linear-time accumulation of streamed text and tool JSON.

``str += str`` on an attribute copies the whole string every time, which makes a long
stream quadratic, and so does handing out a fresh join after every delta. A buffer keeps
the fragments not yet joined and, when the text is read, appends them to one string that
only it holds, in place. CPython grows a string in place (``realloc``) when nothing else
references it, so reading the snapshot after every delta costs the new fragments, not the
whole text, as long as the reader lets go of the previous snapshot (printing it, slicing
it or comparing it all do). A reader that keeps every snapshot alive pays one copy per
read, as it would anyway to hold them.
"""

from __future__ import annotations

from array import array
from typing import Any

import jiter

__all__ = ["FragmentBuffer", "parse_partial_json"]


class FragmentBuffer:
    __slots__ = ("_text", "_joined", "_pending", "_taken", "_ends", "_parsed", "_parsed_upto")

    def __init__(self, initial: str = "") -> None:
        self._text = ""  # the first ``_joined`` fragments, joined
        self._joined = 0
        self._pending: list[str] = []  # fragments not yet in _text, from index _taken on
        self._taken = 0
        self._ends = array("q")  # _ends[i]: length of the text up to and including fragment i
        self._parsed: Any = None
        self._parsed_upto = -1
        if initial:
            self.append(initial)

    def append(self, fragment: str) -> int:
        """Add one fragment; returns how many fragments the buffer now holds."""
        ends = self._ends
        ends.append((ends[-1] if ends else 0) + len(fragment))
        self._pending.append(fragment)
        return len(ends)

    def __len__(self) -> int:
        return len(self._ends)

    def joined(self, upto: int | None = None) -> str:
        """The text of the first ``upto`` fragments (all by default).

        Reading forwards (each event's snapshot in turn, even a batch of events read after
        they were all decoded) extends the one string in place; reading an older event
        after a newer one returns a copy of the prefix.
        """
        n = len(self._ends) if upto is None else min(upto, len(self._ends))
        if n > self._joined:
            take = n - self._joined
            start = self._taken
            text = self._text
            self._text = ""  # let go, so that ``text`` is the only reference and grows in place
            text += self._pending[start] if take == 1 else "".join(self._pending[start : start + take])
            self._text = text
            self._joined = n
            self._taken = start + take
            if self._taken == len(self._pending):
                self._pending.clear()
                self._taken = 0
        if n == self._joined:
            return self._text
        return self._text[: self._ends[n - 1]] if n > 0 else ""

    def partial_json(self, upto: int | None = None) -> Any:
        """The best object the JSON so far describes: partial strings kept, ``{}`` when empty."""
        n = len(self._ends) if upto is None else upto
        if n == self._parsed_upto:
            return self._parsed
        value = parse_partial_json(self.joined(n))
        if n == len(self._ends):
            self._parsed, self._parsed_upto = value, n
        return value


def parse_partial_json(text: str) -> Any:
    if not text.strip():
        return {}
    try:
        return jiter.from_json(text.encode(), partial_mode="trailing-strings")
    except (ValueError, RecursionError):
        return {}
