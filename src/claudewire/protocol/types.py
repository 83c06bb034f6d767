"""Typed models of the Messages API responses and stream events (wire-spec §2–3).

Tagged on ``type`` so one decoder picks the class; unknown fields and types are kept
(see ``_model``). Names follow the official SDK (``TextBlock``, ``RawContentBlockDeltaEvent``…).
"""

from __future__ import annotations

from typing import Any, Literal, Union

import msgspec

from ._model import Model, Unknown, expose_tags

StopReason = Literal[
    "end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded"
]


def _tagged(tag: str) -> dict[str, Any]:
    return {"tag_field": "type", "tag": tag, "kw_only": True}


# --- citations --------------------------------------------------------------------------


class CitationCharLocation(Model, **_tagged("char_location")):
    cited_text: str
    document_index: int
    document_title: str | None = None
    start_char_index: int
    end_char_index: int
    file_id: str | None = None


class CitationPageLocation(Model, **_tagged("page_location")):
    cited_text: str
    document_index: int
    document_title: str | None = None
    start_page_number: int
    end_page_number: int
    file_id: str | None = None


class CitationContentBlockLocation(Model, **_tagged("content_block_location")):
    cited_text: str
    document_index: int
    document_title: str | None = None
    start_block_index: int
    end_block_index: int
    file_id: str | None = None


class CitationsWebSearchResultLocation(Model, **_tagged("web_search_result_location")):
    cited_text: str
    url: str
    title: str | None = None
    encrypted_index: str


class CitationsSearchResultLocation(Model, **_tagged("search_result_location")):
    cited_text: str
    source: str
    title: str | None = None
    search_result_index: int
    start_block_index: int
    end_block_index: int


TextCitation = Union[
    CitationCharLocation,
    CitationPageLocation,
    CitationContentBlockLocation,
    CitationsWebSearchResultLocation,
    CitationsSearchResultLocation,
]


# --- content blocks ---------------------------------------------------------------------


class TextBlock(Model, **_tagged("text")):
    text: str
    citations: list[TextCitation] | None = None


class ThinkingBlock(Model, **_tagged("thinking")):
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(Model, **_tagged("redacted_thinking")):
    data: str


class ToolUseBlock(Model, **_tagged("tool_use")):
    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)
    caller: dict[str, Any] | None = None


class ServerToolUseBlock(Model, **_tagged("server_tool_use")):
    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)
    caller: dict[str, Any] | None = None


class _ToolResult(Model, kw_only=True):
    tool_use_id: str
    content: Any = None
    caller: dict[str, Any] | None = None


class WebSearchToolResultBlock(_ToolResult, **_tagged("web_search_tool_result")):
    pass


class WebFetchToolResultBlock(_ToolResult, **_tagged("web_fetch_tool_result")):
    pass


class CodeExecutionToolResultBlock(_ToolResult, **_tagged("code_execution_tool_result")):
    pass


class BashCodeExecutionToolResultBlock(_ToolResult, **_tagged("bash_code_execution_tool_result")):
    pass


class TextEditorCodeExecutionToolResultBlock(_ToolResult, **_tagged("text_editor_code_execution_tool_result")):
    pass


class ToolSearchToolResultBlock(_ToolResult, **_tagged("tool_search_tool_result")):
    pass


class ContainerUploadBlock(Model, **_tagged("container_upload")):
    file_id: str


ContentBlock = Union[
    TextBlock,
    ThinkingBlock,
    RedactedThinkingBlock,
    ToolUseBlock,
    ServerToolUseBlock,
    WebSearchToolResultBlock,
    WebFetchToolResultBlock,
    CodeExecutionToolResultBlock,
    BashCodeExecutionToolResultBlock,
    TextEditorCodeExecutionToolResultBlock,
    ToolSearchToolResultBlock,
    ContainerUploadBlock,
]
"""Any block; a block of a type not listed here decodes as ``Unknown`` with all its fields."""

TOOL_INPUT_BLOCKS = (ToolUseBlock, ServerToolUseBlock)


# --- usage, stop details, message -------------------------------------------------------


class CacheCreation(Model, kw_only=True):
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class ServerToolUsage(Model, kw_only=True):
    web_search_requests: int = 0
    web_fetch_requests: int | None = None


class Usage(Model, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    server_tool_use: ServerToolUsage | None = None
    service_tier: str | None = None
    inference_geo: str | None = None
    output_tokens_details: dict[str, Any] | None = None


class StopDetails(Model, **_tagged("refusal")):
    category: str | None = None
    explanation: str | None = None


class Message(Model, **_tagged("message")):
    id: str
    role: Literal["assistant"] = "assistant"
    model: str = ""
    content: list[ContentBlock] = msgspec.field(default_factory=list)
    stop_reason: StopReason | str | None = None
    stop_sequence: str | None = None
    stop_details: StopDetails | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    container: Any = None
    context_management: Any = None

    # Emitted even when null, as the API does.
    __always__ = ("stop_reason", "stop_sequence")

    def __getattr__(self, name: str) -> Any:
        # Troubleshooting case 7: a finished Message mistaken for a stream.
        if name in _STREAM_ONLY:
            raise AttributeError(
                f"'Message' object has no attribute {name!r}: messages.create() returns a finished Message, "
                "not a stream. To stream, use `with client.messages.stream(...) as stream:` "
                "(or messages.create(..., stream=True) for raw events)."
            )
        raise AttributeError(f"'Message' object has no attribute {name!r}")


_STREAM_ONLY = frozenset({"text_stream", "get_final_message", "get_final_text", "current_message_snapshot", "until_done"})


class MessageTokensCount(Model, kw_only=True):
    input_tokens: int


class ModelInfo(Model, **_tagged("model")):
    id: str
    display_name: str
    created_at: str
    max_input_tokens: int | None = None
    max_tokens: int | None = None
    capabilities: Any = None


class ErrorObject(Model, kw_only=True):
    type: str
    message: str
    details: Any = None


class ErrorResponse(Model, **_tagged("error")):
    error: ErrorObject
    request_id: str | None = None


# --- deltas -----------------------------------------------------------------------------


class TextDelta(Model, **_tagged("text_delta")):
    text: str


class InputJSONDelta(Model, **_tagged("input_json_delta")):
    partial_json: str


class ThinkingDelta(Model, **_tagged("thinking_delta")):
    thinking: str


class SignatureDelta(Model, **_tagged("signature_delta")):
    signature: str


class CitationsDelta(Model, **_tagged("citations_delta")):
    citation: TextCitation


Delta = Union[TextDelta, InputJSONDelta, ThinkingDelta, SignatureDelta, CitationsDelta]


class MessageDeltaBody(Model, kw_only=True):
    stop_reason: StopReason | str | None = None
    stop_sequence: str | None = None
    stop_details: StopDetails | None = None
    container: Any = None

    __always__ = ("stop_reason", "stop_sequence")


class MessageDeltaUsage(Model, kw_only=True):
    output_tokens: int = 0
    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    server_tool_use: ServerToolUsage | None = None
    output_tokens_details: dict[str, Any] | None = None


# --- raw stream events ------------------------------------------------------------------


class RawMessageStartEvent(Model, **_tagged("message_start")):
    message: Message


class RawMessageDeltaEvent(Model, **_tagged("message_delta")):
    delta: MessageDeltaBody = msgspec.field(default_factory=MessageDeltaBody)
    usage: MessageDeltaUsage = msgspec.field(default_factory=MessageDeltaUsage)


class RawMessageStopEvent(Model, **_tagged("message_stop")):
    pass


class RawContentBlockStartEvent(Model, **_tagged("content_block_start")):
    index: int
    content_block: ContentBlock


class RawContentBlockDeltaEvent(Model, **_tagged("content_block_delta")):
    index: int
    delta: Delta


class RawContentBlockStopEvent(Model, **_tagged("content_block_stop")):
    index: int


class PingEvent(Model, **_tagged("ping")):
    pass


class ErrorEvent(Model, **_tagged("error")):
    error: ErrorObject
    request_id: str | None = None


RawMessageStreamEvent = Union[
    RawMessageStartEvent,
    RawMessageDeltaEvent,
    RawMessageStopEvent,
    RawContentBlockStartEvent,
    RawContentBlockDeltaEvent,
    RawContentBlockStopEvent,
    PingEvent,
    ErrorEvent,
]
"""Every event the API streams; an event of a type not listed decodes as ``Unknown``."""

# The SDK's short aliases.
MessageStartEvent = RawMessageStartEvent
MessageDeltaEvent = RawMessageDeltaEvent
ContentBlockStartEvent = RawContentBlockStartEvent
ContentBlockDeltaEvent = RawContentBlockDeltaEvent

expose_tags(globals())

__all__ = [name for name in dir() if not name.startswith("_") and name[0].isupper()] + ["Unknown"]
