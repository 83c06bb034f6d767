"""The SDK's sentinels: ``NotGiven`` (a parameter left out) and ``Omit`` (a default removed).

``not_given`` and ``NOT_GIVEN`` are two instances of one class, as in the SDK, so code
tests with ``isinstance(value, NotGiven)`` (``given()`` below), never with ``is``.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx2

__all__ = ["NotGiven", "NOT_GIVEN", "not_given", "Omit", "omit", "Timeout", "given"]

Timeout = httpx2.Timeout


class NotGiven:
    """The parameter was not passed at all (as opposed to an explicit ``None``)."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


not_given = NotGiven()
NOT_GIVEN = NotGiven()


class Omit:
    """Pass ``omit`` to remove a value the client would otherwise send (a default header)."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "omit"


omit = Omit()


def given(value: Any) -> bool:
    """True unless ``value`` is a ``NotGiven`` or an ``Omit``."""
    return not isinstance(value, (NotGiven, Omit))
