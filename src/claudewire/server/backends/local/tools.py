"""Tool calls a small model can really make: generated under a grammar, streamed as they come.

The grammar (llama.cpp GBNF, built by llama-cpp-python's JSON-schema converter) allows
exactly ``{"name": "<one of the tools>", "arguments": <JSON valid for that tool's
input_schema>}``, so the name is one of the given tools and the input always validates.
``CallSplitter`` turns that text, token by token, into the tool's name and the fragments
of its input, which become ``input_json_delta`` events.
"""

from __future__ import annotations

import json

from llama_cpp.llama_grammar import SchemaConverter

from ....protocol.params import ToolParam


def wrapper(name: str) -> str:
    return '{"name": ' + json.dumps(name, ensure_ascii=False) + ', "arguments": '


def gbnf_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def call_grammar(tools: list[ToolParam]) -> str:
    """GBNF whose ``root`` is one call of one of ``tools``."""
    converter = SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    alternatives = []
    for i, tool in enumerate(tools):
        schema = json.loads(json.dumps(tool.input_schema or {"type": "object"}))  # resolving refs edits it in place
        rule = converter.visit(converter.resolve_refs(schema, f"tool-{i}"), f"tool-{i}")
        alternatives.append(f"{gbnf_literal(wrapper(tool.name))} {rule} \"}}\"")
    return converter.format_grammar() + "\nroot ::= " + " | ".join(alternatives) + "\n"


class CallSplitter:
    """Grammar-shaped call text in; ``("name", name)`` once, then ``("input", fragment)`` pieces out.

    The last ``}`` seen is held back: it may be the wrapper's own, which is not input.
    """

    def __init__(self, names: list[str]) -> None:
        self.prefixes = {wrapper(name): name for name in names}
        self.head = ""
        self.name: str | None = None
        self.sent: list[str] = []
        self.held = ""

    def push(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.name is None:
            self.head += text
            match = next((p for p in self.prefixes if self.head.startswith(p)), None)
            if match is None:
                return out
            self.name = self.prefixes[match]
            out.append(("name", self.name))
            text = self.head[len(match) :]
        text = self.held + text
        self.held = "}" if text.endswith("}") else ""
        fragment = text[: len(text) - len(self.held)]
        if fragment:
            self.sent.append(fragment)
            out.append(("input", fragment))
        return out

    def finish(self, complete: bool) -> tuple[list[tuple[str, str]], bool]:
        """The last pieces, and whether the call is whole (its input parses). ``complete``: the
        grammar was satisfied (the model ended on its own)."""
        out: list[tuple[str, str]] = []
        if self.name is None:
            return out, False
        if not complete and not _parses("".join(self.sent)) and self.held:
            self.sent.append(self.held)  # cut short: that brace was the input's own
            out.append(("input", self.held))
            self.held = ""
        return out, _parses("".join(self.sent))


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True

