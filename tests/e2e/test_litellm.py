"""LiteLLM as a client of the server: it reads the `data:` lines and ignores event names."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r'''
import json, sys
import litellm

base = sys.argv[1]
report = {}
r = litellm.completion(model="anthropic/claude-sonnet-4-6", api_base=base, api_key="sk-ant-lite",
                       messages=[{"role": "user", "content": "hello from litellm"}])
report["plain"] = [r.choices[0].message.content, r.choices[0].finish_reason, r.usage.prompt_tokens, r.usage.completion_tokens]
text, finish = "", None
for chunk in litellm.completion(model="anthropic/claude-sonnet-4-6", api_base=base, api_key="sk-ant-lite", stream=True,
                                messages=[{"role": "user", "content": "streaming from litellm"}]):
    text += chunk.choices[0].delta.content or ""
    finish = chunk.choices[0].finish_reason or finish
report["stream"] = [text, finish]
tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
r = litellm.completion(model="anthropic/claude-haiku-4-5", api_base=base, api_key="sk-ant-lite", tool_choice="required", tools=tools,
                       messages=[{"role": "user", "content": "weather"}])
call = r.choices[0].message.tool_calls[0].function
report["tool"] = [call.name, json.loads(call.arguments), r.choices[0].finish_reason]
print(json.dumps(report))
'''


def test_litellm(scripted_server) -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # no network fetch at import
    done = subprocess.run([sys.executable, "-c", SCRIPT, scripted_server.base_url], capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["plain"] == ["hello from litellm", "stop", 3, 3]
    assert report["stream"] == ["streaming from litellm", "stop"]
    assert report["tool"] == ["get_weather", {"city": "example"}, "tool_calls"]
