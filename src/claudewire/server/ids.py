"""Identifiers shaped like the API's: msg_01…, toolu_01…, req_011C… (base58, 22 characters)."""

from __future__ import annotations

import secrets

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58(n: int = 22) -> str:
    return "".join(secrets.choice(_BASE58) for _ in range(n))


def message_id() -> str:
    return "msg_01" + _base58()


def tool_use_id() -> str:
    return "toolu_01" + _base58()


def request_id() -> str:
    return "req_011C" + _base58()
