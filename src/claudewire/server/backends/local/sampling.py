"""How each sequence picks its next token, from the request's own settings.

Temperature 0 is greedy: the model's most likely token, every time (deterministic, and the
same text llama.cpp's own server gives at temperature 0). Without a grammar that is an
argmax over the logits in place (``Argmax``, 5 µs); llama.cpp's sampler first copies all
49,152 logits into a candidate array (50 µs), and a token's pick is on every step's
critical path. Otherwise the API's defaults apply
(temperature 1, no top_k, no top_p) after a light repetition penalty and min-p 0.05, which
keep a 135M model from looping or wandering when it samples. A grammar, when given, comes
first, so every other step only ever sees tokens the grammar allows.
"""

from __future__ import annotations

import ctypes
import random
from dataclasses import dataclass
from typing import Any, Protocol

import llama_cpp
import numpy as np
from llama_cpp import _internals as internals

REPEAT_PENALTY = 1.1
PENALTY_WINDOW = 64
MIN_P = 0.05


@dataclass(slots=True)
class Sampling:
    temperature: float = 1.0
    top_p: float | None = None
    top_k: int | None = None
    grammar: str | None = None  # GBNF, rule ``root``
    seed: int | None = None

    def picker(self, model: internals.LlamaModel) -> Picker:
        if self.temperature <= 0 and self.grammar is None:
            return Argmax(model.n_vocab())
        return Chain(self.chain(model))

    def chain(self, model: internals.LlamaModel) -> internals.LlamaSampler:
        sampler = internals.LlamaSampler()
        if self.grammar is not None:
            constraint = llama_cpp.llama_sampler_init_grammar(model.vocab, self.grammar.encode(), b"root")
            if not constraint:
                sampler.close()
                raise ValueError("llama.cpp could not parse the grammar built from this input_schema")
            llama_cpp.llama_sampler_chain_add(sampler.sampler, constraint)
        if self.temperature <= 0:
            sampler.add_greedy()
            return sampler
        sampler.add_penalties(model.n_vocab(), PENALTY_WINDOW, REPEAT_PENALTY, 0.0, 0.0)
        if self.top_k:
            sampler.add_top_k(self.top_k)
        if self.top_p is not None and self.top_p < 1:
            sampler.add_top_p(self.top_p, 1)
        sampler.add_min_p(MIN_P, 1)
        sampler.add_temp(self.temperature)
        sampler.add_dist(self.seed if self.seed is not None else random.getrandbits(32))
        return sampler


class Picker(Protocol):
    def pick(self, ctx: Any, row: int) -> int: ...

    def close(self) -> None: ...


class Chain:
    """llama.cpp's sampler chain (it also accepts the token: penalties and grammars keep state)."""

    def __init__(self, sampler: internals.LlamaSampler) -> None:
        self.sampler = sampler

    def pick(self, ctx: Any, row: int) -> int:
        return llama_cpp.llama_sampler_sample(self.sampler.sampler, ctx, row)

    def close(self) -> None:
        self.sampler.close()


# ``llama_get_logits_ith`` with a plain address for its result: llama-cpp-python's own binding
# returns a ctypes pointer, and turning that into an array costs more than the argmax itself.
_logits_address = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32)(
    ctypes.cast(llama_cpp.llama_get_logits_ith, ctypes.c_void_p).value
)


class Argmax:
    """Greedy without a grammar: the first most likely token, as llama.cpp's greedy sampler picks it.

    The logits stay where llama.cpp wrote them. A row's address only changes when llama.cpp
    grows its output buffer, so the numpy view of each address is made once (building one
    through the buffer protocol took longer than the argmax)."""

    def __init__(self, n_vocab: int) -> None:
        self.row_type = ctypes.c_float * n_vocab
        self.views: dict[int, np.ndarray] = {}

    def pick(self, ctx: Any, row: int) -> int:
        address = _logits_address(ctx, row)
        view = self.views.get(address)
        if view is None:
            if len(self.views) > 64:  # a bound only: a view is right whenever its address comes back
                self.views.clear()
            view = self.views[address] = np.frombuffer(self.row_type.from_address(address), dtype=np.float32)
        return int(view.argmax())

    def close(self) -> None:
        self.views.clear()
