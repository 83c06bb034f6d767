"""The embedded model through the server vs llama-cpp-python called directly, in one process.

    python bench/server_local.py [--runs N]

Same prompts, same sampling (greedy, so both produce the same tokens), same max_tokens.
Direct: ``Llama.generate`` in a loop. Through the server: the official ``anthropic`` SDK
streaming from ``claudewire serve``'s app (uvicorn in a thread of this process).
Time to first token and tokens/s after the first token, per path; medians over runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import anthropic  # noqa: E402

from claudewire.protocol.params import MessageCreateParams, MessageParam  # noqa: E402
from claudewire.server.backends.local import LocalBackend  # noqa: E402
from claudewire.server.run import ServerThread  # noqa: E402

PROMPTS = [
    "Tell me a short story about a robot.",
    "Explain how a bicycle works.",
    "Write a poem about the autumn forest.",
]
MAX_TOKENS = 200


def direct(backend: LocalBackend, prompt: str) -> tuple[float, float, int]:
    params = MessageCreateParams(model="x", max_tokens=MAX_TOKENS, messages=[MessageParam(role="user", content=prompt)])
    tokens = backend.tokens(params)
    llm = backend.llm
    t0 = time.perf_counter()
    first = last = 0.0
    n = 0
    for token in llm.generate(tokens, temp=0.0, top_p=1.0, top_k=0, min_p=0.05, repeat_penalty=1.1, reset=True):
        if token in backend.end_tokens:
            break
        llm.detokenize([token])
        n += 1
        last = time.perf_counter()
        if n == 1:
            first = last
        if n >= MAX_TOKENS:
            break
    return first - t0, (n - 1) / (last - first), n


def served(client: anthropic.Anthropic, prompt: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first = last = 0.0
    n = 0
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=MAX_TOKENS, extra_body={"temperature": 0.0},
                                messages=[{"role": "user", "content": prompt}]) as stream:
        for _ in stream.text_stream:
            last = time.perf_counter()
            if not first:
                first = last
        n = stream.get_final_message().usage.output_tokens
    # Text deltas can hold several tokens (a multi-byte character); rate by real tokens.
    return first - t0, (n - 1) / (last - first), n


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    backend = LocalBackend(n_ctx=2048)
    with ServerThread(backend) as server:
        client = anthropic.Anthropic(base_url=server.base_url, api_key="bench")
        for prompt in PROMPTS:  # warm both paths
            direct(backend, prompt)
            served(client, prompt)
        rows = {"direct": [], "server": []}
        for _ in range(runs):
            for prompt in PROMPTS:
                backend.llm.reset()  # no KV-cache reuse between paths: each evaluates its prompt
                rows["direct"].append(direct(backend, prompt))
                backend.llm.reset()
                rows["server"].append(served(client, prompt))
    print(f"{'path':8} {'TTFT ms':>9} {'tokens/s':>10} {'tokens':>7}")
    summary = {}
    for path, results in rows.items():
        ttft = statistics.median(r[0] for r in results) * 1000
        rate = statistics.median(r[1] for r in results)
        summary[path] = (ttft, rate)
        print(f"{path:8} {ttft:9.1f} {rate:10.1f} {sum(r[2] for r in results):7d}")
    (d_ttft, d_rate), (s_ttft, s_rate) = summary["direct"], summary["server"]
    print(f"server/direct tokens/s: {s_rate / d_rate:.1%}; first token later by {s_ttft - d_ttft:+.1f} ms")


if __name__ == "__main__":
    main()
