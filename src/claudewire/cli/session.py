"""Saved conversations: one JSON file each, in the platform's user data directory.

The directory is ``platformdirs.user_data_dir("claudewire")/conversations`` (for example
``~/.local/share/claudewire/conversations`` on Linux), or ``$CLAUDEWIRE_DATA_DIR/conversations``.
A file is rewritten whole after every turn (write, then rename), so a crash never leaves
half a file; the newest file is the one ``--continue`` picks up.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import msgspec

DATA_DIR_ENV = "CLAUDEWIRE_DATA_DIR"


class Usage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0


class Conversation(msgspec.Struct, kw_only=True):
    id: str
    created: float
    model: str
    system: str | None = None
    messages: list[dict[str, Any]] = msgspec.field(default_factory=list)
    usage: Usage = msgspec.field(default_factory=Usage)

    @classmethod
    def new(cls, model: str, system: str | None = None) -> Conversation:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return cls(id=f"{stamp}-{secrets.token_hex(2)}", created=time.time(), model=model, system=system)

    @property
    def title(self) -> str:
        first = next((m["content"] for m in self.messages if m["role"] == "user"), "")
        line = " ".join(str(first).split())
        return line[:60] + ("…" if len(line) > 60 else "")

    def save(self) -> Path:
        folder = conversations_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.id}.json"
        partial = path.with_suffix(".json.partial")
        partial.write_bytes(msgspec.json.format(msgspec.json.encode(self)))
        os.replace(partial, path)
        return path


def conversations_dir() -> Path:
    base = os.environ.get(DATA_DIR_ENV)
    if not base:
        import platformdirs

        base = platformdirs.user_data_dir("claudewire", appauthor=False)
    return Path(base) / "conversations"


def load(path: Path) -> Conversation:
    return msgspec.json.decode(path.read_bytes(), type=Conversation)


def saved() -> list[tuple[Path, Conversation]]:
    """Every readable saved conversation, newest first."""
    folder = conversations_dir()
    found = []
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []:
        try:
            found.append((path, load(path)))
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            continue  # a file someone edited by hand is skipped, not fatal
    return found


def find(conversation_id: str | None) -> Conversation | None:
    """The conversation with this id (or an id prefix), or the newest one when ``None``."""
    for _, conversation in saved():
        if conversation_id is None or conversation.id.startswith(conversation_id):
            return conversation
    return None
