"""Typed models of the Messages API requests (wire-spec §1): what a client may send.

Structure only (types, ranges, tags); the API's cross-field rules (thinking budgets,
tool_use/tool_result pairing…) live with the server's validation. Unknown top-level and
tool fields are accepted, as newer clients send fields older servers do not know.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from msgspec import Meta, Struct

__all__ = [
    "CacheControl",
    "TextBlockParam",
    "ImageBlockParam",
    "DocumentBlockParam",
    "SearchResultBlockParam",
    "ToolUseBlockParam",
    "ToolResultBlockParam",
    "ThinkingBlockParam",
    "RedactedThinkingBlockParam",
    "ServerToolUseBlockParam",
    "WebSearchToolResultBlockParam",
    "ContentBlockParam",
    "MessageParam",
    "ToolParam",
    "ToolChoice",
    "ThinkingConfig",
    "Metadata",
    "MessageCreateParams",
    "MessageCountTokensParams",
]


class _Param(Struct, kw_only=True, omit_defaults=True):
    pass


def _tag(tag: str) -> dict[str, Any]:
    return {"tag_field": "type", "tag": tag, "kw_only": True, "omit_defaults": True}


class CacheControl(_Param, kw_only=True):
    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] | None = None


class TextBlockParam(_Param, **_tag("text")):
    text: str
    cache_control: CacheControl | None = None
    citations: list[dict[str, Any]] | None = None


class ImageBlockParam(_Param, **_tag("image")):
    source: dict[str, Any]
    cache_control: CacheControl | None = None


class DocumentBlockParam(_Param, **_tag("document")):
    source: dict[str, Any]
    title: str | None = None
    context: str | None = None
    citations: dict[str, Any] | None = None
    cache_control: CacheControl | None = None


class SearchResultBlockParam(_Param, **_tag("search_result")):
    source: str
    title: str
    content: list[TextBlockParam]
    citations: dict[str, Any] | None = None
    cache_control: CacheControl | None = None


class ToolUseBlockParam(_Param, **_tag("tool_use")):
    id: str
    name: str
    input: dict[str, Any]
    cache_control: CacheControl | None = None
    caller: dict[str, Any] | None = None


class ToolResultBlockParam(_Param, **_tag("tool_result")):
    tool_use_id: str
    content: str | list[Union[TextBlockParam, ImageBlockParam, SearchResultBlockParam, DocumentBlockParam]] | None = None
    is_error: bool | None = None
    cache_control: CacheControl | None = None


class ThinkingBlockParam(_Param, **_tag("thinking")):
    thinking: str
    signature: str


class RedactedThinkingBlockParam(_Param, **_tag("redacted_thinking")):
    data: str


class ServerToolUseBlockParam(_Param, **_tag("server_tool_use")):
    id: str
    name: str
    input: dict[str, Any]
    cache_control: CacheControl | None = None


class WebSearchToolResultBlockParam(_Param, **_tag("web_search_tool_result")):
    tool_use_id: str
    content: Any
    cache_control: CacheControl | None = None


ContentBlockParam = Union[
    TextBlockParam,
    ImageBlockParam,
    DocumentBlockParam,
    SearchResultBlockParam,
    ToolUseBlockParam,
    ToolResultBlockParam,
    ThinkingBlockParam,
    RedactedThinkingBlockParam,
    ServerToolUseBlockParam,
    WebSearchToolResultBlockParam,
]


class MessageParam(_Param, kw_only=True):
    role: Literal["user", "assistant"]
    content: str | list[ContentBlockParam]


class ToolParam(_Param, kw_only=True):
    """A client tool (``input_schema``) or a typed server tool (``type`` like ``web_search_20250305``)."""

    name: Annotated[str, Meta(min_length=1, max_length=128)]
    input_schema: dict[str, Any] | None = None
    description: str | None = None
    type: str | None = None
    cache_control: CacheControl | None = None
    strict: bool | None = None


class ToolChoice(_Param, kw_only=True):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class ThinkingConfig(_Param, kw_only=True):
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None
    display: Literal["summarized", "omitted"] | None = None


class Metadata(_Param, kw_only=True):
    user_id: str | None = None


class MessageCountTokensParams(_Param, kw_only=True):
    model: Annotated[str, Meta(min_length=1, max_length=256)]
    messages: list[MessageParam]
    system: str | list[TextBlockParam] | None = None
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None


class MessageCreateParams(MessageCountTokensParams, kw_only=True):
    max_tokens: Annotated[int, Meta(ge=1)]
    temperature: Annotated[float, Meta(ge=0, le=1)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    top_k: Annotated[int, Meta(ge=0)] | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    metadata: Metadata | None = None
    service_tier: Literal["auto", "standard_only"] | None = None

