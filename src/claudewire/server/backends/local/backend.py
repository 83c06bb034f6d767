"""The embedded model as a backend: requests in, API events out, over the batching engine.

Each request is tokenized in a worker thread (a huge prompt never blocks the event loop),
refused with 529 ``overloaded_error`` and ``retry-after`` when ``max_queue`` requests are
already waiting, then handed to the engine as a ``Job``. ``message_start`` goes out when the
job gets a slot, because only then is the cached part of the prompt known. Closing the
stream (the client left) cancels the job, queued or running.

Replies: text; a forced tool call (``tool_choice`` any/tool) generated under the tools'
grammar; or, with ``auto``, text until the model writes ``<tool_call>``, after which the
call's arguments continue under the grammar in a second job that reuses the cached prompt.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ....protocol.params import MessageCountTokensParams, MessageCreateParams, ToolParam
from ...builder import MessageBuilder
from ...catalogue import ModelEntry
from ...errors import APIErrorResponse, invalid
from .engine import RELEASED, Admitted, Engine, EngineStopped, Finish, Job
from .mailbox import Inbox, Mailbox
from .model import Model, model_path, physical_cores
from .prompt import CALL_OPEN, PromptRenderer, forced, uses_tools
from .prompt_cache import shared_prefix
from .sampling import Sampling
from .tools import CallSplitter, call_grammar

MODEL_ID = "smollm2-135m-instruct"
RETRY_AFTER_SECONDS = 2


class Generation:
    """One job's items as the event loop sees them."""

    def __init__(self, engine: Engine, job_args: dict[str, Any]) -> None:
        self.inbox = Inbox()
        self.engine = engine
        self.job = Job(sink=functools.partial(Mailbox.of(asyncio.get_running_loop()).post, self.inbox), **job_args)
        try:
            engine.submit(self.job)
        except EngineStopped as exc:
            raise APIErrorResponse(529, str(exc)) from None

    async def next(self) -> Any:
        item = await self.inbox.get()
        while item is RELEASED:
            item = await self.inbox.get()
        if isinstance(item, EngineStopped):
            raise APIErrorResponse(529, str(item))
        if isinstance(item, ValueError):  # a grammar llama.cpp could not parse
            raise invalid(f"tools: {item}")
        if isinstance(item, BaseException):
            raise item
        return item

    async def close(self) -> None:
        """Cancels the job, and returns once the engine has let go of it (within one step), so a
        request that ends has really stopped computing."""
        if self.engine.cancel(self.job):
            await asyncio.shield(self._released())

    async def _released(self) -> None:
        while await self.inbox.get() is not RELEASED:
            pass


class LocalBackend:
    def __init__(
        self,
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
        parallel: int = 4,
        max_queue: int | None = None,
        n_batch: int = 512,
        cache_ram_mb: int = 1024,
        path: str | Path | None = None,
    ) -> None:
        threads = n_threads or physical_cores()
        self.llm = Model(
            str(path or model_path()), window=n_ctx, n_seq=parallel, n_batch=n_batch,
            n_threads=threads, n_threads_batch=n_threads_batch or threads,
        )
        self.n_ctx = self.llm.window
        self.model = ModelEntry(MODEL_ID, "SmolLM2 135M Instruct (local)", "2024-11-01T00:00:00Z", self.n_ctx, self.n_ctx)
        self.render = PromptRenderer(self.llm.metadata["tokenizer.chat_template"], MODEL_ID)
        a, z = (self.llm.tokenize(sample) for sample in self.render.samples())
        self.engine = Engine(self.llm, preamble=a[: shared_prefix(a, z)], cache_bytes=cache_ram_mb << 20)
        self.parallel = parallel
        self.max_queue = 4 * parallel if max_queue is None else max_queue
        self._tokenizer = ThreadPoolExecutor(2, thread_name_prefix="claudewire-tokenize")

    @property
    def tokens_generated(self) -> int:
        return self.engine.tokens_generated

    @property
    def active(self) -> int:
        return self.engine.active

    @property
    def queued(self) -> int:
        """Requests waiting for a slot (GET /metrics)."""
        return len(self.engine.waiting)

    @property
    def prompt_cache_bytes(self) -> int:
        return self.engine.cache.held

    @property
    def prompt_cache_restores(self) -> int:
        return self.engine.cache.hits

    def health(self) -> dict[str, Any]:
        generating = sum(slot.job is not None for slot in self.engine.slots)
        return {"model_loaded": True, "generating": generating, "queued": self.queued, "slots": len(self.engine.slots)}

    # -- prompts ------------------------------------------------------------------------

    def prompt(self, params: MessageCountTokensParams, call_after: str | None = None) -> str:
        """The exact text the model reads; count_tokens and usage count its tokens."""
        return self.render(params, call_after)

    def tokens(self, params: MessageCountTokensParams, call_after: str | None = None) -> list[int]:
        return self.llm.tokenize(self.render(params, call_after))

    async def _tokens(self, params: MessageCountTokensParams, call_after: str | None = None) -> list[int]:
        return await asyncio.get_running_loop().run_in_executor(self._tokenizer, self.tokens, params, call_after)

    async def count_tokens(self, params: MessageCountTokensParams) -> int:
        return len(await self._tokens(params))

    # -- generation ---------------------------------------------------------------------

    def _start(self, prompt: list[int], params: MessageCreateParams, max_tokens: int, grammar: str | None,
               stops: list[str]) -> Generation:
        if len(prompt) >= self.n_ctx:
            raise invalid(f"prompt is too long: {len(prompt)} tokens > {self.n_ctx - 1} maximum")
        if len(self.engine.waiting) >= self.max_queue:
            raise APIErrorResponse(529, "Overloaded", headers={"retry-after": str(RETRY_AFTER_SECONDS)})
        sampling = Sampling(
            temperature=1.0 if params.temperature is None else params.temperature,
            top_p=params.top_p, top_k=params.top_k, grammar=grammar,
        )
        return Generation(self.engine, {"prompt": prompt, "sampling": sampling, "max_tokens": max_tokens, "stops": stops})

    async def stream(self, params: MessageCreateParams) -> AsyncIterator[dict[str, Any]]:
        if params.thinking is not None and params.thinking.type == "enabled":
            raise invalid(f"thinking: {MODEL_ID} cannot think; leave thinking out, disable it, or use "
                          '{"type": "adaptive"} to let the model decide (it answers without thinking)')
        tools = self._tools(params)
        user_stops = list(params.stop_sequences or [])
        prompt = await self._tokens(params)
        calling = forced(params) and bool(tools)
        if calling:
            generation = self._start(prompt, params, params.max_tokens, call_grammar(tools), [])
        else:
            stops = user_stops + [CALL_OPEN] if tools and CALL_OPEN not in user_stops else user_stops
            generation = self._start(prompt, params, params.max_tokens, None, stops)
        try:
            admitted: Admitted = await generation.next()
            build = MessageBuilder(params.model, len(prompt) - admitted.cached, cache_read_input_tokens=admitted.cached)
            yield build.start()
            if calling:
                async for event in self._call(build, generation, tools, 0):
                    yield event
                return
            said: list[str] = []
            while True:
                item = await generation.next()
                if isinstance(item, Finish):
                    break
                said.append(item)
                for event in build.text(item):
                    yield event
            if item.stop_sequence == CALL_OPEN and tools and CALL_OPEN not in user_stops:
                left = params.max_tokens - item.output_tokens
                if left > 0:  # the model began a call: its arguments go on under the grammar
                    await generation.close()
                    prompt = await self._tokens(params, call_after="".join(said))
                    generation = self._start(prompt, params, left, call_grammar(tools), [])
                    await generation.next()  # Admitted
                    async for event in self._call(build, generation, tools, item.output_tokens):
                        yield event
                    return
                item = Finish("max_tokens", None, item.output_tokens)
            if not said:
                for event in build.text(""):  # a reply with no text still has its (empty) text block
                    yield event
            for event in build.finish(item.stop_reason, item.stop_sequence, item.output_tokens):
                yield event
        finally:
            await generation.close()

    async def _call(self, build: MessageBuilder, generation: Generation, tools: list[ToolParam],
                    produced: int) -> AsyncIterator[dict[str, Any]]:
        """A call generated under the grammar, streamed as ``tool_use`` + ``input_json_delta``."""
        splitter = CallSplitter([tool.name for tool in tools])
        while True:
            item = await generation.next()
            if isinstance(item, Finish):
                break
            for event in self._call_events(build, splitter.push(item)):
                yield event
        tail, whole = splitter.finish(item.stop_reason == "end_turn")
        for event in self._call_events(build, tail):
            yield event
        reason = "tool_use" if whole else item.stop_reason
        for event in build.finish(reason, None, produced + item.output_tokens):
            yield event

    @staticmethod
    def _call_events(build: MessageBuilder, pieces: list[tuple[str, str]]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for kind, value in pieces:
            events += build.tool_use(value) if kind == "name" else build.input_json(value)
        return events

    @staticmethod
    def _tools(params: MessageCreateParams) -> list[ToolParam]:
        """The tools the model may call here (client tools, with a schema), as the choice allows."""
        if not uses_tools(params):
            return []
        tools = [tool for tool in params.tools or () if tool.type in (None, "custom")]
        choice = params.tool_choice
        if choice is not None and choice.type == "tool":
            tools = [tool for tool in tools if tool.name == choice.name]
            if not tools:
                raise invalid(f"tool_choice: no tool named {json.dumps(choice.name)} in tools")
        return tools

    async def drain(self) -> None:
        """The server is stopping: every request, queued or generating, ends now (529 in-band)."""
        await asyncio.get_running_loop().run_in_executor(None, self.engine.close)

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.engine.close)
        self._tokenizer.shutdown(wait=False, cancel_futures=True)
