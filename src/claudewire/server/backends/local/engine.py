"""Continuous batching: every active request advances in one ``llama_decode`` per step.

The engine runs in one thread and owns the llama.cpp context. It has ``n_seq`` slots, one
KV sequence each. A step builds one batch: the last sampled token of every slot that is
generating, then the next chunk of every slot still reading its prompt, up to ``n_batch``
tokens in all. After the decode, each slot whose logits were asked for samples with its
own sampler chain. So a new request starts within one step, however long the others run.
Requests that come together start together: while nobody generates yet, a newcomer aborts
the step reading the first ones' prompts (within ``BURST_WINDOW`` of the first such step),
and the step is taken again with its prompt too; its answer does not wait a step behind.

Between steps the engine drops cancelled requests (queued or running), admits waiting
ones into free slots and stops when asked to. A step is short (prompts go in chunks), which
bounds how late a cancel is seen; and when every request in the model is cancelled (or the
server stops), the decode in progress is aborted through llama.cpp's abort callback.

Prompt cache: a slot keeps the KV entries of everything it evaluated after its request
ends. A new request takes the free slot whose tokens share the longest prefix with its
prompt (the next turn of a conversation, a fixed system prompt) and evaluates only the
rest; the shared part, however short, is reported as ``cache_read_input_tokens``. A prompt
token costs a few milliseconds on a CPU, so even the chat template's opening (the default
system turn: 24 tokens for SmolLM2) is worth keeping. While idle, the engine fills every empty slot
with that opening (``preamble``), one abortable step at a time, so even a slot's first
request reads it from the cache; a request that arrives meanwhile aborts the warming step.
What a slot held beyond the part a new request keeps is first saved to host memory
(``prompt_cache.py``; while the engine is idle when it can be, so that no request waits for
the copy at admission), and a request that shares more with a saved state than with any free
slot has that state copied back into its slot.

Requests talk to the engine through ``Job``: the engine calls ``job.sink`` (thread-safe)
with ``Admitted``, then text pieces (whole characters, stop sequences held back), then one
``Finish`` or an exception. What a step produces is handed over when the step ends, all at
once and outside the lock: the event loop then wakes once per step, not once per token, and
does its share while the next step computes.
"""

from __future__ import annotations

import atexit
import codecs
import ctypes
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import llama_cpp
from llama_cpp import _internals as internals

from ..base import StopSequenceFilter
from .model import Model
from .prompt_cache import PromptCache, shared_prefix
from .sampling import Picker, Sampling

log = logging.getLogger("claudewire.local")

# llama.cpp asks its abort callback after every graph node, from a compute thread. A Python
# callback would take the GIL hundreds of times per step, so the callback is C's own strlen
# over a one-byte flag: a non-zero length (the flag set) means "abort".
ABORT_IF_FLAG_SET = llama_cpp.ggml_abort_callback(ctypes.cast(ctypes.CDLL(None).strlen, ctypes.c_void_p).value)


@dataclass(slots=True)
class Admitted:
    cached: int  # prompt tokens whose KV entries were already in the slot


@dataclass(slots=True)
class Finish:
    stop_reason: str
    stop_sequence: str | None
    output_tokens: int


class EngineStopped(RuntimeError):
    pass


RELEASED = "released"  # the last item a job that held a slot receives: the engine has let go of it


@dataclass(eq=False)
class Job:
    prompt: list[int]
    sampling: Sampling
    max_tokens: int
    stops: list[str]
    sink: Callable[[Any], None]
    cancelled: bool = False
    running: bool = False  # holds a slot


@dataclass(eq=False)
class Slot:
    seq: int
    cached: list[int] = field(default_factory=list)  # tokens whose KV entries this sequence holds
    job: Job | None = None
    pending: list[int] = field(default_factory=list)  # prompt tokens not evaluated yet
    next_token: int = -1  # sampled, to be evaluated in the next step
    sampler: Picker | None = None
    produced: int = 0
    text: Any = None  # incremental UTF-8 decoder
    stops: StopSequenceFilter | None = None
    order: int = 0  # admission order: prompts are read first come, first served
    used: int = 0  # step of last use: the least recently used free slot is evicted first
    saved: bool = True  # what the slot holds is in the host-memory cache (or not worth saving)
    row: int = -1  # the batch row of this slot's last token in the step under way


# Requests that come together start together: while nobody is generating yet, a step that
# reads prompts is aborted for a newcomer and started again with its prompt too, within this
# long of the first such step. A burst of N requests then reads its prompts in one step, not
# in two (the first alone, the rest behind it); the work thrown away is bounded by it.
BURST_WINDOW = 0.05
# A free slot's tokens are copied to the host-memory cache once the engine has been idle this
# long: not at once, since the copy cannot be interrupted and a follow-up request (the next
# turn of an agent's loop) often comes right away, for the very tokens the slot still holds.
SAVE_WHEN_IDLE_FOR = 0.5


class Engine:
    def __init__(self, model: Model, preamble: list[int] | None = None, cache_bytes: int = 0) -> None:
        self.model = model
        self.cache = PromptCache(model.context.ctx, cache_bytes)
        self.preamble = list(preamble or [])  # what most prompts start with: warmed into idle slots
        self.slots = [Slot(seq) for seq in range(model.n_seq)]
        self.waiting: deque[Job] = deque()
        self.tokens_generated = 0  # for tests and metrics: proof the model stops computing
        self.steps = 0
        self._admitted = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._warming = False
        self._cancels = 0  # cancels since the engine last dropped cancelled jobs
        self._burst_began: float | None = None  # the first prompt-only step since nobody generated
        self._restartable = False  # the step under way reads prompts only, and a newcomer may restart it
        self._outbox: list[tuple[Job, Any]] = []  # this step's items, handed over when it ends
        self._batch = internals.LlamaBatch(n_tokens=model.n_batch, embd=0, n_seq_max=1, verbose=False)
        self._abort = ctypes.create_string_buffer(2)
        llama_cpp.llama_set_abort_callback(model.context.ctx, ABORT_IF_FLAG_SET, ctypes.cast(self._abort, ctypes.c_void_p))
        self._thread = threading.Thread(target=self._run, name="claudewire-llama", daemon=True)
        self._thread.start()
        atexit.register(self.close)  # a step still computing as the interpreter tears down would crash it

    # -- the request side (any thread) --------------------------------------------------

    @property
    def active(self) -> int:
        """Requests queued or holding a slot."""
        return len(self.waiting) + sum(slot.job is not None for slot in self.slots)

    def submit(self, job: Job) -> None:
        with self._cond:
            if self._stopping:
                raise EngineStopped("the model is shutting down")
            self.waiting.append(job)
            if self._warming or self._restartable:
                self._abort[0] = b"\x01"  # a request waits for no slot warming, nor for a burst's first prompts
            self._cond.notify()

    def cancel(self, job: Job) -> bool:
        """A queued job leaves the queue at once; a running one is dropped before the next step
        (then it receives ``RELEASED``). Returns whether the job still holds a slot."""
        with self._cond:
            job.cancelled = True
            self._cancels += 1
            try:
                self.waiting.remove(job)
            except ValueError:
                pass
            if all(slot.job is None or slot.job.cancelled for slot in self.slots):
                self._abort[0] = b"\x01"  # nobody left to serve in the step under way
            self._cond.notify()
            return job.running

    def close(self, timeout: float = 5.0) -> None:
        atexit.unregister(self.close)
        with self._cond:
            self._stopping = True
            self._abort[0] = b"\x01"
            self._cond.notify()
        self._thread.join(timeout)
        if not self._thread.is_alive() and self._batch.batch is not None:
            self._batch.close()
            self.model.close()

    # -- the engine thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    if self._cancels:
                        self._cancels = 0
                        self._drop_cancelled()
                        self._hand_over()  # the drops' RELEASED go out before any wait
                    cold = unsaved = None
                    idle_since = time.monotonic()
                    while not self._stopping and not self.waiting and not self._serving():
                        self._burst_began = None
                        cold = self._cold_slot()
                        if cold is not None:
                            break
                        candidate = self._unsaved_slot()
                        if candidate is None:
                            self._cond.wait()
                            continue
                        wait = idle_since + SAVE_WHEN_IDLE_FOR - time.monotonic()
                        if wait <= 0:
                            unsaved = candidate
                            break
                        self._cond.wait(wait)
                    if self._stopping:
                        break
                    seated = self._seat() if self.waiting else []
                    self._abort[0] = b"\x00"
                    self._warming = cold is not None
                while seated:
                    for slot in seated:
                        self._admit(slot)
                    self._hand_over()  # admissions go out before the step that reads their prompts
                    with self._cond:  # who came while those were admitted joins the same step
                        seated = self._seat() if self.waiting and not self._stopping else []
                if unsaved is not None:
                    self.cache.save(unsaved.seq, unsaved.cached)
                    unsaved.saved = True
                elif cold is None:
                    if self._serving():
                        self._step()
                else:
                    self._warm(cold)
                    with self._cond:
                        self._warming = False
                self._hand_over()
        except BaseException as exc:  # a broken context: every request hears of it
            log.exception("the local model's engine stopped")
            self._fail_all(exc)
            raise
        self._fail_all(EngineStopped("the model is shutting down"))

    def _serving(self) -> bool:
        return any(slot.job is not None for slot in self.slots)

    def _emit(self, job: Job, item: Any) -> None:
        self._outbox.append((job, item))

    def _hand_over(self) -> None:
        outbox, self._outbox = self._outbox, []
        for job, item in outbox:
            job.sink(item)

    def _fail_all(self, exc: BaseException) -> None:
        with self._cond:
            self._stopping = True
            jobs = list(self.waiting) + [s.job for s in self.slots if s.job is not None]
            self.waiting.clear()
            for slot in self.slots:
                if slot.job is not None:
                    self._release(slot)
        for job in jobs:
            self._emit(job, exc)
        self._hand_over()

    def _drop_cancelled(self) -> None:
        for slot in self.slots:
            if slot.job is not None and slot.job.cancelled:
                self._release(slot)

    def _seat(self) -> list[Slot]:
        """Waiting jobs into free slots (under the lock): each takes the free slot that shares
        the longest prefix with its prompt, the least recently used among equals."""
        seated = []
        while self.waiting:
            free = [slot for slot in self.slots if slot.job is None]
            if not free:
                break
            job = self.waiting.popleft()
            slot = max(free, key=lambda s: (shared_prefix(s.cached, job.prompt), -s.used))
            slot.job, job.running = job, True
            seated.append(slot)
        return seated

    def _admit(self, slot: Slot) -> None:
        """A seated job's sampler and prompt (outside the lock: it may copy KV state to or from
        host memory, which takes milliseconds)."""
        job = slot.job
        assert job is not None
        try:
            slot.sampler = job.sampling.picker(self.model.model)
        except Exception as exc:
            self._emit(job, exc)
            self._release(slot)
            return
        keep = self._reuse(slot, job.prompt[:-1])  # the last token is read again: it gives the logits
        self.model.forget(slot.seq, keep)
        slot.cached = job.prompt[:keep]
        slot.pending = job.prompt[keep:]
        slot.produced = 0
        slot.text = codecs.getincrementaldecoder("utf-8")("replace")
        slot.stops = StopSequenceFilter(job.stops)
        self._admitted += 1
        slot.order = self._admitted
        self._emit(job, Admitted(keep))

    def _reuse(self, slot: Slot, prompt: list[int]) -> int:
        """How much of ``prompt`` the slot will hold before reading the rest: what it has, or a
        longer prefix from the host-memory cache. What the slot held beyond is saved first (and
        before the lookup: saving may evict the least recently used state)."""
        keep = shared_prefix(slot.cached, prompt)
        if len(slot.cached) > keep:
            self.cache.save(slot.seq, slot.cached)
        saved, held = self.cache.best(prompt)
        if saved is None or held <= keep:
            return keep
        self.model.forget(slot.seq)
        slot.cached = []
        if not self.cache.restore(saved, slot.seq):
            return 0
        slot.cached = list(saved.tokens)
        return held

    def _cold_slot(self) -> Slot | None:
        """A free slot that holds none of the preamble yet (None when all do, or there is none)."""
        if not self.preamble:
            return None
        return next((s for s in self.slots if s.job is None and not s.cached), None)

    def _unsaved_slot(self) -> Slot | None:
        """A free slot whose tokens the host-memory cache lacks, saved while the engine is idle:
        copying a long conversation out takes milliseconds (and 100 ms on a VM touching fresh
        memory), which a request that takes the slot would otherwise wait for, at admission."""
        return next((s for s in self.slots if s.job is None and not s.saved and self.cache.wants(s.cached)), None)

    def _warm(self, slot: Slot) -> None:
        """Evaluates the preamble into an empty slot: one step, aborted if a request comes."""
        self.model.forget(slot.seq)
        code = self._decode([(slot, self.preamble, False)])
        if code not in (0, 2):  # the context cannot hold it: warm no more
            log.warning("warming a slot failed (llama_decode %d); slots start cold", code)
            self.preamble = []

    def _decode(self, parts: list[tuple[Slot, list[int], bool]]) -> int:
        """One ``llama_decode`` over each slot's next tokens, with logits for the last token of
        the parts that ask (at batch row ``Slot.row``). The slots' ``cached`` grow by what was
        evaluated; an aborted or failed step leaves them as they were."""
        batch = self._batch.batch
        n = 0
        for slot, tokens, logits in parts:
            base = len(slot.cached)
            for i, token in enumerate(tokens):
                batch.token[n] = token
                batch.pos[n] = base + i
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = slot.seq
                batch.logits[n] = False
                n += 1
            batch.logits[n - 1] = logits
            slot.row = n - 1
        batch.n_tokens = n
        code = llama_cpp.llama_decode(self.model.context.ctx, batch)
        self.steps += 1
        if code != 0:
            for slot, _, _ in parts:
                self.model.forget(slot.seq, len(slot.cached))  # what the step half wrote
            return code
        for slot, tokens, _ in parts:
            slot.cached += tokens
            slot.saved = False
            slot.used = self.steps
        return 0

    def _step(self) -> None:
        """Every generating slot's last token, then prompt chunks first come, first served, up
        to ``n_batch`` tokens; then each slot whose last prompt token or last sampled token was
        evaluated samples its next token."""
        busy = [slot for slot in self.slots if slot.job is not None]
        parts = [(slot, [slot.next_token], True) for slot in busy if not slot.pending]
        budget = self.model.n_batch - len(parts)
        reading = [slot for slot in busy if slot.pending]
        if len(reading) > 1:
            reading.sort(key=lambda s: s.order)
        for slot in reading:
            if budget <= 0:
                break
            chunk = slot.pending[:budget]
            parts.append((slot, chunk, len(chunk) == len(slot.pending)))
            budget -= len(chunk)
        if len(reading) < len(busy):
            self._burst_began = None  # someone generates: no step is restarted for a newcomer
        elif self._open_to_newcomers():
            return  # one came meanwhile: it is seated first, and this step taken with its prompt
        code = self._decode(parts)
        if self._restartable:
            with self._cond:
                self._restartable = False
        if code == 2:  # aborted: a newcomer to a burst, every request in it cancelled, or the server stopping
            return
        if code != 0:
            self._decode_failed(code, [slot for slot, _, _ in parts])
            return
        ctx = self.model.context.ctx
        for slot, tokens, logits in parts:
            if slot.pending:
                del slot.pending[: len(tokens)]
            if logits:
                assert slot.sampler is not None
                self._take(slot, slot.sampler.pick(ctx, slot.row))

    def _open_to_newcomers(self) -> bool:
        """Before a step that only reads prompts: whether a request that arrives during it may
        restart it (``BURST_WINDOW``). True when one is already waiting: skip the step. Only
        while a slot is free: a newcomer with no slot to take would restart it for nothing."""
        now = time.monotonic()
        if self._burst_began is None:
            self._burst_began = now
        if now - self._burst_began >= BURST_WINDOW or all(slot.job is not None for slot in self.slots):
            return False
        with self._cond:
            if self.waiting:
                return True
            self._restartable = True
        return False

    def _decode_failed(self, code: int, evaluated: list[Slot]) -> None:
        error = RuntimeError(f"llama_decode failed ({code})")
        for slot in evaluated:
            job = slot.job
            self._release(slot)
            if job is not None:
                self._emit(job, error)

    def _take(self, slot: Slot, token: int) -> None:
        """One sampled token: text out, then decide whether this sequence goes on."""
        job = slot.job
        assert job is not None and slot.stops is not None
        piece = self.model.piece(token)
        if piece is None:
            return self._finish(slot, "end_turn")
        slot.produced += 1
        self.tokens_generated += 1
        text, matched = slot.stops.push(slot.text.decode(piece))
        if text:
            self._emit(job, text)  # whole characters only: the decoder holds a split multi-byte one
        if matched is not None:
            return self._finish(slot, "stop_sequence", matched)
        if slot.produced >= job.max_tokens:
            return self._finish(slot, "max_tokens")
        if len(slot.cached) + 1 >= self.model.window:
            return self._finish(slot, "model_context_window_exceeded")
        slot.next_token = token

    def _finish(self, slot: Slot, reason: str, matched: str | None = None) -> None:
        job = slot.job
        assert job is not None and slot.stops is not None
        if matched is None:
            tail = slot.stops.flush()  # a character cut short by the end is dropped, not sent as U+FFFD
            if tail:
                self._emit(job, tail)
        self._emit(job, Finish(reason, matched, slot.produced))
        self._release(slot)

    def _release(self, slot: Slot) -> None:
        job = slot.job
        if slot.sampler is not None:
            slot.sampler.close()
        slot.job, slot.sampler, slot.pending, slot.stops, slot.text = None, None, [], None, None
        slot.used = self.steps
        if job is not None:
            with self._cond:
                job.running = False
            self._emit(job, RELEASED)
