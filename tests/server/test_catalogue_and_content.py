"""The model catalogue answers for every id and alias it shows; the text-only local model
refuses what it cannot read; local token counts are counts of the prompt the model reads."""

from __future__ import annotations

import base64

import anthropic
import httpx2
import msgspec
import pytest

from claudewire.protocol.params import MessageCountTokensParams
from claudewire.server.catalogue import CLAUDE_MODELS

HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                     "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()


def test_every_listed_id_and_alias_answers(scripted_server) -> None:
    client = anthropic.Anthropic(base_url=scripted_server.base_url, api_key="k", max_retries=0)
    listed = list(client.models.list(limit=3))
    names = [m.id for m in listed] + [alias for entry in CLAUDE_MODELS for alias in entry.aliases]
    assert len(names) > len(listed)  # aliases exist
    for name in names:
        info = client.models.retrieve(name)
        assert info.id in {m.id for m in listed}  # an alias resolves to the listed entry
        message = client.messages.create(model=name, max_tokens=5, messages=[{"role": "user", "content": "ping"}])
        assert message.content[0].text == "ping"
        assert client.messages.count_tokens(model=name, messages=[{"role": "user", "content": "a b"}]).input_tokens == 2
    assert client.models.retrieve("claude-opus-4-5").id == "claude-opus-4-5-20251101"
    # dates newest first, one entry per model
    dates = [m.created_at for m in listed if m.id != "claudewire-scripted"]
    assert dates == sorted(dates, reverse=True) and len({m.display_name for m in listed}) == len(listed)
    # a page cursor may name an alias too
    page = httpx2.get(f"{scripted_server.base_url}/v1/models?after_id=claude-opus-4-5&limit=1", headers=HEADERS).json()
    assert page["data"][0]["id"] == "claude-haiku-4-5-20251001"


@pytest.mark.local
@pytest.mark.parametrize(("block", "kind"), [
    ({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}, "image"),
    ({"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}, "image"),
    ({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}}, "document"),
])
def test_local_model_refuses_content_it_cannot_read(local_server, block, kind) -> None:
    content = [{"type": "text", "text": "What is in this?"}, block]
    body = {"model": "claude-sonnet-4-6", "max_tokens": 20, "messages": [{"role": "user", "content": content}]}
    for path, extra in (("/v1/messages", {}), ("/v1/messages", {"stream": True}), ("/v1/messages/count_tokens", {})):
        sent = {**body, **extra} if path == "/v1/messages" else {k: v for k, v in body.items() if k != "max_tokens"}
        response = httpx2.post(local_server.base_url + path, json=sent, headers=HEADERS, timeout=60)
        assert response.status_code == 400, (path, extra)
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["message"].startswith(f"messages.0.content.1: smollm2-135m-instruct reads text only and cannot take {kind} content")
    # inside a tool result as well
    nested = [{"role": "user", "content": "look"},
              {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "camera", "input": {}}]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [block]}]}]
    response = httpx2.post(local_server.base_url + "/v1/messages", headers=HEADERS, timeout=60,
                           json={"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": nested})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("messages.2.content.0:")


@pytest.mark.local
def test_local_counts_are_the_prompt_the_model_reads(local_server, local_backend) -> None:
    client = anthropic.Anthropic(base_url=local_server.base_url, api_key="k", max_retries=0)
    messages = [{"role": "user", "content": "Say yes."}]
    tools = [{"name": "get_weather", "description": "The weather in a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
    system = "You answer in one word."
    plain = client.messages.count_tokens(model="claude-sonnet-4-6", messages=messages).input_tokens
    with_system = client.messages.count_tokens(model="claude-sonnet-4-6", messages=messages, system=system).input_tokens
    with_tools = client.messages.count_tokens(model="claude-sonnet-4-6", messages=messages, system=system, tools=tools).input_tokens
    assert plain < with_tools and with_system < with_tools and with_system != plain
    # the count is exactly the tokens of the rendered prompt, which carries the tool definitions
    params = msgspec.convert({"model": "claude-sonnet-4-6", "messages": messages, "system": system, "tools": tools},
                             MessageCountTokensParams)
    prompt = local_backend.prompt(params)
    assert "get_weather" in prompt and "The weather in a city" in prompt and system in prompt
    assert with_tools == len(local_backend.llm.tokenize(prompt))
    # and the usage of a real generation is the same count: tokens read, plus tokens the prompt cache held
    message = client.messages.create(model="claude-sonnet-4-6", max_tokens=3, messages=messages, system=system, tools=tools)
    assert message.usage.input_tokens + message.usage.cache_read_input_tokens == with_tools
    # a plain-text document is text: accepted and counted
    doc = [{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Paris is in France."}},
           {"type": "text", "text": "Where is Paris?"}]
    assert client.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": doc}]).input_tokens > plain


def test_text_the_model_can_read_is_never_dropped(scripted_server) -> None:
    # search results and text documents inside tool results reach a text-only backend as text
    client = anthropic.Anthropic(base_url=scripted_server.base_url, api_key="k", max_retries=0)
    content = [{"type": "search_result", "source": "https://example.com", "title": "Facts",
                "content": [{"type": "text", "text": "one two three"}]},
               {"type": "text", "text": "four"}]
    counted = client.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": content}])
    assert counted.input_tokens == len("[search result Facts (https://example.com):\none two three]\nfour".split())
    turns = [{"role": "user", "content": "look"},
             {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "read", "input": {}}]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                 {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "alpha beta"}}]}]}]
    assert client.messages.count_tokens(model="claude-sonnet-4-6", messages=turns).input_tokens == len(
        "look [tool call read: {}] [tool result: alpha beta]".split())
