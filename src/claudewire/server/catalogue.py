"""The models the server answers to: the current Claude models (with their published caps) plus the backend's own.

One entry per model, under the id GET /v1/models lists; an alias (``claude-opus-4-5``)
resolves to its entry for GET /v1/models/{alias} and for POST, as on the real API.

Ids are those of the SDK 2.10 ``Model`` list; dates and caps are the model pages'
(platform.claude.com/docs/en/models/*/overview, "Released …"). Not listed: retired models
(claude-3-*, claude-opus-4-0/-4-20250514, claude-sonnet-4-0/-4-20250514 and
claude-mythos-preview, past end of life in the SDK's ``DEPRECATED_MODELS``; claude-opus-4-1,
gone from its ``Model`` list), the invitation-only Mythos 5 line, and claude-opus-5-5,
claude-sonnet-5-5, claude-fable-5-1 and claude-opus-4-7, whose release dates no source
at hand gives.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelEntry:
    id: str
    display_name: str
    created_at: str
    max_tokens: int
    max_input_tokens: int = 200_000
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self.max_tokens,
        }


# Newest first, as GET /v1/models lists them.
CLAUDE_MODELS: tuple[ModelEntry, ...] = (
    ModelEntry("claude-fable-5-2", "Claude Fable 5.2", "2026-11-09T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-haiku-5-5", "Claude Haiku 5.5", "2026-10-07T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-opus-5", "Claude Opus 5", "2026-07-24T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-sonnet-5", "Claude Sonnet 5", "2026-06-30T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-fable-5", "Claude Fable 5", "2026-06-09T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-opus-4-8", "Claude Opus 4.8", "2026-05-28T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z", 64_000, aliases=("claude-opus-4-5",)),
    ModelEntry("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z", 64_000, aliases=("claude-haiku-4-5",)),
    ModelEntry("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z", 64_000, aliases=("claude-sonnet-4-5",)),
)


class Catalogue:
    def __init__(self, backend_model: ModelEntry) -> None:
        self.entries = (*CLAUDE_MODELS, backend_model)
        self._by_name = {name: m for m in self.entries for name in (m.id, *m.aliases)}

    def get(self, model_id: str) -> ModelEntry | None:
        """The entry for an id or an alias."""
        return self._by_name.get(model_id)

    def page(self, limit: int, after_id: str | None, before_id: str | None) -> dict:
        ids = [m.id for m in self.entries]
        after_id, before_id = self._canonical(after_id), self._canonical(before_id)
        if before_id is not None:
            end = ids.index(before_id) if before_id in ids else 0
            chosen = self.entries[max(0, end - limit) : end]
            has_more = end - limit > 0
        else:
            start = ids.index(after_id) + 1 if after_id in ids else (len(ids) if after_id is not None else 0)
            chosen = self.entries[start : start + limit]
            has_more = start + limit < len(ids)
        return {
            "data": [m.to_dict() for m in chosen],
            "has_more": has_more,
            "first_id": chosen[0].id if chosen else None,
            "last_id": chosen[-1].id if chosen else None,
        }

    def _canonical(self, name: str | None) -> str | None:
        entry = None if name is None else self.get(name)
        return name if entry is None else entry.id
