"""A request as the model's prompt: the chat template, with tools, tool calls and tool results.

One function renders every request, so ``count_tokens``, ``input_tokens`` and what the model
reads are the same tokens. SmolLM2's template is plain ChatML with no slot for tools, so
tools go into the system turn in the format SmolLM2 was tuned on for function calling
(``<tools>`` JSON, answers as ``<tool_call>[{"name": …, "arguments": …}]</tool_call>``);
earlier calls are written back in that format and their results as ``<tool_response>``.
"""

from __future__ import annotations

import json
from typing import Any

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from ....protocol.params import MessageCountTokensParams, ToolResultBlockParam, ToolUseBlockParam
from ..base import block_text, reject_non_text, system_text

CALL_OPEN = "<tool_call>"
CALL_PREFILL = CALL_OPEN + "[\n"  # where a forced call starts: the arguments follow under a grammar

TOOLS_SYSTEM = """You are an expert in composing functions. You are given a question and a set of possible functions.
Based on the question, you may need to make a function/tool call to achieve the purpose.

You have access to the following tools:
<tools>{tools}</tools>

To call a tool, answer in this format and nothing else:
<tool_call>[
{{"name": "func_name1", "arguments": {{"argument1": "value1", "argument2": "value2"}}}}
]</tool_call>
If no tool is needed, answer normally."""


def uses_tools(params: MessageCountTokensParams) -> bool:
    return bool(params.tools) and (params.tool_choice is None or params.tool_choice.type != "none")


def forced(params: MessageCountTokensParams) -> bool:
    return uses_tools(params) and params.tool_choice is not None and params.tool_choice.type in ("any", "tool")


def tools_json(params: MessageCountTokensParams) -> str:
    tools = [
        {"name": t.name, "description": t.description or "", "parameters": t.input_schema or {"type": "object"}}
        for t in params.tools or ()
    ]
    return json.dumps(tools, ensure_ascii=False)


def call_text(calls: list[ToolUseBlockParam]) -> str:
    body = ",\n".join(json.dumps({"name": c.name, "arguments": c.input}, ensure_ascii=False) for c in calls)
    return f"{CALL_OPEN}[\n{body}\n]</tool_call>"


def result_text(block: ToolResultBlockParam) -> str:
    content = block.content
    if isinstance(content, list):
        content = "\n".join(t for t in (block_text(b) for b in content) if t)
    error = " (error)" if block.is_error else ""
    return f"<tool_response{error}>\n{content or ''}\n</tool_response>"


def content_text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    calls: list[ToolUseBlockParam] = []
    for block in content:
        if isinstance(block, ToolUseBlockParam):
            calls.append(block)
            continue
        if calls:
            parts.append(call_text(calls))
            calls = []
        text = result_text(block) if isinstance(block, ToolResultBlockParam) else block_text(block)
        if text:
            parts.append(text)
    if calls:
        parts.append(call_text(calls))
    return "\n".join(parts)


class PromptRenderer:
    def __init__(self, chat_template: str, model_id: str) -> None:
        self.model_id = model_id
        self.formatter = Jinja2ChatFormatter(chat_template, eos_token="<|im_end|>", bos_token="<|im_start|>")

    def samples(self) -> tuple[str, str]:
        """Two prompts that differ only in what the user says. What they share is how every
        prompt without a system prompt begins (with SmolLM2: its default system turn)."""
        return tuple(self.formatter(messages=[{"role": "user", "content": said}]).prompt for said in ("A", "Z"))  # type: ignore[return-value]

    def __call__(self, params: MessageCountTokensParams, call_after: str | None = None) -> str:
        """The prompt text. ``call_after``: the model's text so far in this turn, where it began a tool call."""
        reject_non_text(params, self.model_id)  # a 400, never an image silently dropped
        turns: list[dict[str, str]] = []
        system = system_text(params.system)
        if uses_tools(params):
            system = (system + "\n\n" if system else "") + TOOLS_SYSTEM.format(tools=tools_json(params))
        if system:
            turns.append({"role": "system", "content": system})
        for message in params.messages:
            text = content_text(message.content)
            if turns and turns[-1]["role"] == message.role:  # consecutive turns are merged, as the API does
                turns[-1]["content"] += "\n\n" + text
            else:
                turns.append({"role": message.role, "content": text})
        prefill = ""
        if turns and turns[-1]["role"] == "assistant":
            prefill = turns.pop()["content"]
        if call_after is not None:
            prefill += call_after + CALL_PREFILL
        elif forced(params):
            prefill += CALL_PREFILL
        return self.formatter(messages=turns).prompt + prefill
