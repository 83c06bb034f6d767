"""Append-only fragment buffers: linear-time accumulation of streamed text and tool JSON.

``str += str`` on an attribute copies the whole string every time, which makes a long
stream quadratic. A buffer keeps the fragments and joins them only when asked, caching
the longest join so that reading after every delta stays linear overall.
"""

from __future__ import annotations

from typing import Any

import jiter

__all__ = ["FragmentBuffer"]


class FragmentBuffer:
    __slots__ = ("parts", "_joined", "_joined_upto", "_parsed", "_parsed_upto")

    def __init__(self, initial: str = "") -> None:
        self.parts: list[str] = [initial] if initial else []
        self._joined = ""
        self._joined_upto = 0
        self._parsed: Any = None
        self._parsed_upto = -1

    def append(self, fragment: str) -> int:
        """Add one fragment; returns how many fragments the buffer now holds."""
        self.parts.append(fragment)
        return len(self.parts)

    def __len__(self) -> int:
        return len(self.parts)

    def joined(self, upto: int | None = None) -> str:
        """The text of the first ``upto`` fragments (all by default)."""
        parts = self.parts
        n = len(parts) if upto is None else upto
        if n == self._joined_upto:
            return self._joined
        if n > self._joined_upto:
            self._joined += "".join(parts[self._joined_upto : n])
            self._joined_upto = n
            return self._joined
        return "".join(parts[:n])

    def partial_json(self, upto: int | None = None) -> Any:
        """The best object the JSON so far describes: partial strings kept, ``{}`` when empty."""
        n = len(self.parts) if upto is None else upto
        if n == self._parsed_upto:
            return self._parsed
        text = self.joined(n)
        value = parse_partial_json(text)
        if n == len(self.parts):
            self._parsed, self._parsed_upto = value, n
        return value


def parse_partial_json(text: str) -> Any:
    if not text.strip():
        return {}
    try:
        return jiter.from_json(text.encode(), partial_mode="trailing-strings")
    except ValueError:
        return {}
