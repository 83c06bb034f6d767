"""The models the server answers to: current Claude ids (with their published output caps) plus the backend's own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelEntry:
    id: str
    display_name: str
    created_at: str
    max_tokens: int
    max_input_tokens: int = 200_000

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
    ModelEntry("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z", 128_000, 1_000_000),
    ModelEntry("claude-opus-4-5", "Claude Opus 4.5", "2025-11-24T00:00:00Z", 64_000),
    ModelEntry("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-01T00:00:00Z", 64_000),
    ModelEntry("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-15T00:00:00Z", 64_000),
    ModelEntry("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z", 64_000),
    ModelEntry("claude-sonnet-4-5", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z", 64_000),
    ModelEntry("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z", 64_000),
    ModelEntry("claude-opus-4-1", "Claude Opus 4.1", "2025-08-05T00:00:00Z", 32_000),
    ModelEntry("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z", 32_000),
    ModelEntry("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z", 64_000),
    ModelEntry("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z", 32_000),
    ModelEntry("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24T00:00:00Z", 64_000),
    ModelEntry("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z", 8_192),
    ModelEntry("claude-3-haiku-20240307", "Claude Haiku 3", "2024-03-07T00:00:00Z", 4_096),
)


class Catalogue:
    def __init__(self, backend_model: ModelEntry) -> None:
        self.entries = (*CLAUDE_MODELS, backend_model)
        self._by_id = {m.id: m for m in self.entries}

    def get(self, model_id: str) -> ModelEntry | None:
        return self._by_id.get(model_id)

    def page(self, limit: int, after_id: str | None, before_id: str | None) -> dict:
        ids = [m.id for m in self.entries]
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
