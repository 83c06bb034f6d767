"""Request validation with the API's statuses and messages (wire-spec §1.4).

Structure comes from the typed params (msgspec), whose errors are rewritten into the
API's ``<path>: <message>`` form; the cross-field rules are checked here, with the exact
messages the real API sends where they are known.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from ..protocol.params import (
    MessageCountTokensParams,
    MessageCreateParams,
    TextBlockParam,
    ToolResultBlockParam,
    ToolUseBlockParam,
)
from .catalogue import Catalogue
from .errors import APIErrorResponse, invalid
from .limits import MAX_JSON_DEPTH, check_stop_sequences, check_structure

P = TypeVar("P", MessageCreateParams, MessageCountTokensParams)

_EXPECTED_NAMES = {
    "int": "a valid integer",
    "float": "a valid number",
    "str": "a valid string",
    "bool": "a valid boolean",
    "array": "a valid list",
    "object": "a valid dictionary",
}
_THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


def _path(msgspec_path: str, field: str | None = None) -> str:
    """``$.messages[0].content`` -> ``messages.0.content``."""
    path = re.sub(r"\[(\d+)\]", r".\1", msgspec_path.lstrip("$")).lstrip(".")
    if field:
        path = f"{path}.{field}" if path else field
    return path


def _rewrite(error: msgspec.ValidationError) -> str:
    text = str(error)
    message, _, where = text.partition(" - at `")
    where = where.rstrip("`") or "$"
    if m := re.fullmatch(r"Object missing required field `(\w+)`", message):
        return f"{_path(where, m.group(1))}: Field required"
    if m := re.fullmatch(r"Expected `(\w+)` (>=|<=|>|<) (-?[\d.]+)", message):
        op = {">=": "greater than or equal to", "<=": "less than or equal to", ">": "greater than", "<": "less than"}[m.group(2)]
        bound = m.group(3).removesuffix(".0")
        return f"{_path(where)}: Input should be {op} {bound}"
    if m := re.fullmatch(r"Expected `([\w |]+)`, got `(\w+)`", message):
        wanted = " or ".join(_EXPECTED_NAMES.get(t.strip(), t.strip()) for t in m.group(1).split("|"))
        return f"{_path(where)}: Input should be {wanted}"
    if m := re.fullmatch(r"Invalid (?:enum )?value (.+)", message):
        return f"{_path(where)}: Input value {m.group(1)} is not one of the allowed values"
    if m := re.fullmatch(r"Expected `str` of length (>=|<=) (\d+)", message):
        word = "at least" if m.group(1) == ">=" else "at most"
        return f"{_path(where)}: String should have {word} {m.group(2)} characters"
    return f"{_path(where)}: {message}" if _path(where) else message


def parse(body: bytes | bytearray, tp: type[P]) -> P:
    """Type the body, then refuse what typing lets through: duplicate keys, deep nesting."""
    try:
        params = msgspec.json.decode(body, type=tp)
    except msgspec.ValidationError as exc:
        raise invalid(_rewrite(exc)) from None
    except msgspec.DecodeError as exc:
        raise invalid(f"There was an error parsing the body of your request: {exc}") from None
    except UnicodeDecodeError:
        raise invalid("There was an error parsing the body of your request: invalid UTF-8 in a JSON string") from None
    except RecursionError:
        raise invalid(f"There was an error parsing the body of your request: JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    check_structure(body)
    return params


def _blocks(content: str | list[Any]) -> list[Any]:
    return [TextBlockParam(text=content)] if isinstance(content, str) else content


def check_messages(params: MessageCountTokensParams) -> None:
    messages = params.messages
    if not messages:
        raise invalid("messages: List should have at least 1 item after validation, not 0")
    last = len(messages) - 1
    for i, message in enumerate(messages):
        blocks = _blocks(message.content)
        if not blocks or (isinstance(message.content, str) and not message.content):
            if not (i == last and message.role == "assistant"):
                raise invalid(
                    f"messages.{i}: all messages must have non-empty content except for the optional final assistant message"
                )
        for block in blocks:
            if type(block) is TextBlockParam and not block.text and not isinstance(message.content, str):
                raise invalid("messages: text content blocks must be non-empty")
        if message.role == "user" and any(type(b) is ToolUseBlockParam for b in blocks):
            raise invalid(f"messages.{i}: `tool_use` blocks can only be in `assistant` messages")
        if message.role == "assistant" and any(type(b) is ToolResultBlockParam for b in blocks):
            raise invalid(f"messages.{i}: `tool_result` blocks can only be in `user` messages")
        tool_ids = [b.id for b in blocks if type(b) is ToolUseBlockParam]
        if tool_ids:
            following = _blocks(messages[i + 1].content) if i < last else []
            answered = {b.tool_use_id for b in following if type(b) is ToolResultBlockParam}
            missing = [t for t in tool_ids if t not in answered]
            if missing:
                raise invalid(
                    f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
                )
    if isinstance(params.system, list):
        for block in params.system:
            if not block.text:
                raise invalid("system: text content blocks must be non-empty")
    choice = params.tool_choice
    if choice is not None and choice.type == "tool":
        if not choice.name:
            raise invalid("tool_choice.tool.name: Field required")
        if choice.name not in {t.name for t in params.tools or ()}:
            raise invalid(f"tool_choice: Tool '{choice.name}' not found in tools")
    if choice is not None and choice.type == "any" and not params.tools:
        raise invalid("tool_choice: tool_choice.type 'any' requires at least one tool")
    for i, tool in enumerate(params.tools or ()):
        if tool.type is None and tool.input_schema is None:
            raise invalid(f"tools.{i}.custom.input_schema: Field required")


def check_thinking(params: MessageCountTokensParams, max_tokens: int | None, temperature: float | None) -> None:
    thinking = params.thinking
    if thinking is None or thinking.type != "enabled":
        return
    if thinking.budget_tokens is None:
        raise invalid("thinking.enabled.budget_tokens: Field required")
    if thinking.budget_tokens < 1024:
        raise invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if max_tokens is not None and thinking.budget_tokens >= max_tokens:
        raise invalid(
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at "
            f"{_THINKING_DOCS}#max-tokens-and-context-window-size"
        )
    if temperature is not None and temperature != 1:
        raise invalid(
            "`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at "
            "https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking"
        )
    if params.tool_choice is not None and params.tool_choice.type in ("any", "tool"):
        raise invalid("Thinking may not be enabled when tool_choice forces tool use.")


def validate_create(body: bytes, catalogue: Catalogue) -> MessageCreateParams:
    params = parse(body, MessageCreateParams)
    entry = catalogue.get(params.model)
    if entry is None:
        raise APIErrorResponse(404, f"model: {params.model}")
    if params.max_tokens > entry.max_tokens:
        raise invalid(
            f"max_tokens: {params.max_tokens} > {entry.max_tokens}, which is the maximum allowed number of output tokens for {params.model}"
        )
    check_messages(params)
    check_thinking(params, params.max_tokens, params.temperature)
    check_stop_sequences(params.stop_sequences)
    return params


def validate_count(body: bytes, catalogue: Catalogue) -> MessageCountTokensParams:
    params = parse(body, MessageCountTokensParams)
    if catalogue.get(params.model) is None:
        raise APIErrorResponse(404, f"model: {params.model}")
    check_messages(params)
    check_thinking(params, None, None)
    return params
