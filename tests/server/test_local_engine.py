"""The local model at full speed, over real HTTP: streams at once, queue limits, cancels, cache, tools.

Every test drives the real SmolLM2 model through a real server with the official SDK or raw
sockets; nothing is mocked. Orderings (who started before whom, how far a prompt got) are
asserted from the engine's own state, not from timings.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import anthropic
import httpx2
import jsonschema
import pytest

from claudewire.server.backends.local import LocalBackend
from claudewire.server.backends.local.prompt import PromptRenderer
from claudewire.server.run import ServerThread

TOPICS = ["the sea", "a mountain", "bread", "a violin", "the moon", "a garden", "rain", "a train"]


def client_for(server) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="k", max_retries=0)


def story(client: anthropic.Anthropic, topic: str, stamps: dict | None = None) -> str:
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=24, extra_body={"temperature": 0},
                                messages=[{"role": "user", "content": f"Write a long essay about {topic}."}]) as stream:
        text = []
        for piece in stream.text_stream:
            if stamps is not None and not text:
                stamps["first"] = time.monotonic()
            text.append(piece)
        stream.get_final_message()
    if stamps is not None:
        stamps["done"] = time.monotonic()
    return "".join(text)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_concurrent_streams_overlap_and_match_their_solo_text(local_server, n) -> None:
    client = client_for(local_server)
    solo = {topic: story(client, topic) for topic in TOPICS[:n]}
    stamps = {topic: {} for topic in TOPICS[:n]}
    texts: dict[str, str] = {}
    start = threading.Barrier(n)

    def run(topic: str) -> None:
        start.wait()
        texts[topic] = story(client, topic, stamps[topic])

    threads = [threading.Thread(target=run, args=(topic,)) for topic in TOPICS[:n]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert texts == solo  # greedy: batching changes nothing in what each stream says
    assert max(s["first"] for s in stamps.values()) < min(s["done"] for s in stamps.values())


def _send_raw(server, body: dict) -> socket.socket:
    """A request whose client we can make vanish at any moment (close the socket)."""
    payload = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\n"
                 b"content-length: %d\r\n\r\n" % len(payload) + payload)
    return sock


def _until(condition, within: float = 10.0) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < within, "condition not reached"
        time.sleep(0.005)
    return time.monotonic() - start


COUNTING = [{"role": "user", "content": "Count from 1 to 1000."},
            {"role": "assistant", "content": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"}]


def test_queue_limit_answers_529_and_a_departed_waiter_frees_its_place() -> None:
    backend = LocalBackend(n_ctx=512, parallel=1, max_queue=1, n_threads=1)
    with ServerThread(backend) as server:
        client = client_for(server)
        long = {"model": "claude-sonnet-4-6", "max_tokens": 400, "temperature": 0, "messages": COUNTING, "stream": True}
        running = _send_raw(server, long)
        _until(lambda: backend.engine.slots[0].job is not None)
        waiter = _send_raw(server, long)
        _until(lambda: len(backend.engine.waiting) == 1)
        with pytest.raises(anthropic.APIStatusError) as refused:
            client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
        assert refused.value.status_code == 529 and refused.value.response.headers["retry-after"].isdigit()
        assert refused.value.body["error"]["type"] == "overloaded_error"
        waiter.close()  # the queued client leaves: its place is free again, without waiting for the running one
        _until(lambda: not backend.engine.waiting)
        assert backend.engine.slots[0].job is not None
        running.close()
        _until(lambda: backend.active == 0)
        assert client.messages.create(model="claude-sonnet-4-6", max_tokens=3,
                                      messages=[{"role": "user", "content": "Hi"}]).usage.output_tokens >= 1
    backend.engine.close()


def test_shutting_down_mid_generation_ends_the_stream_cleanly() -> None:
    import logging

    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(handler)
    backend = LocalBackend(n_ctx=512, parallel=1, n_threads=1)
    outcome: dict = {}
    try:
        server = ServerThread(backend).__enter__()
        client = client_for(server)

        def read() -> None:
            try:
                with client.messages.stream(model="claude-sonnet-4-6", max_tokens=400, messages=COUNTING,
                                            extra_body={"temperature": 0}) as stream:
                    for _ in stream.text_stream:
                        outcome["text"] = True
            except anthropic.APIStatusError as exc:
                outcome["error"] = exc

        reader = threading.Thread(target=read)
        reader.start()
        _until(lambda: outcome.get("text"), 120)
        server.__exit__(None, None, None)  # the server stops while the model is mid-reply
        reader.join(30)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
    assert isinstance(outcome.get("error"), anthropic.APIStatusError) and "shutting down" in str(outcome["error"])
    assert not server.thread.is_alive() and errors == []  # no traceback, nothing cancelled by force


def test_a_long_prompt_cancelled_mid_evaluation_frees_the_model(local_server, local_backend) -> None:
    engine = local_backend.engine
    marker = uuid.uuid4().hex
    words = " ".join(f"{marker[i % 32]}{i}" for i in range(400))  # about 1,800 tokens
    body = {"model": "claude-sonnet-4-6", "max_tokens": 5, "stream": True,
            "messages": [{"role": "user", "content": f"{marker} Summarize: {words}"}]}
    prompt = local_backend.tokens(validate(body))
    assert 3 * local_backend.llm.n_batch < len(prompt) < local_backend.n_ctx  # several chunks
    sock = _send_raw(local_server, body)

    def reading() -> bool:
        return any(s.job is not None and s.job.prompt == prompt and s.cached and s.pending for s in engine.slots)

    _until(reading, 180)
    sock.close()
    freed = _until(lambda: not any(s.job is not None and s.job.prompt == prompt for s in engine.slots))
    slot = next(s for s in engine.slots if s.cached[:20] == prompt[:20])
    assert len(slot.cached) < len(prompt)  # stopped between chunks, before the prompt was read
    assert freed < 1.0


def _submit(engine, prompt: list[int], max_tokens: int) -> dict:
    """A job straight into the engine, greedy; what it says, the step that made its first piece
    (the sink runs when that step ends) and an event set once the engine let go of it."""
    from claudewire.server.backends.local.engine import RELEASED, Job
    from claudewire.server.backends.local.sampling import Sampling

    out: dict = {"text": [], "done": threading.Event()}

    def sink(item) -> None:
        if item is RELEASED:
            out["done"].set()
        elif isinstance(item, str):
            out.setdefault("first_step", engine.steps)
            out["text"].append(item)

    engine.submit(Job(prompt=prompt, sampling=Sampling(temperature=0), max_tokens=max_tokens, stops=[], sink=sink))
    return out


def test_requests_that_come_together_read_their_prompts_in_one_step(local_backend) -> None:
    """A request that arrives while the first of a burst is still reading its prompt (nobody
    generating yet) restarts that step with its own prompt too: both answers start from the
    same step, and each says what it says alone."""
    engine = local_backend.engine
    # Fixed texts, used by no other test, so that no slot holds them yet. Not random ones: the
    # run alone reuses the KV entries the burst's step computed and evaluates only the last token
    # again, in a batch of one, and llama.cpp's batched and single-row kernels can differ in the
    # last bits; for some prompts that flips a near tie (random ones failed 2 runs in 5 here).
    long_prompt = local_backend.tokens(validate({"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": [
        {"role": "user", "content": "Burst test. " + "Tell me about rivers, walls and willows. " * 30}]}))
    short_prompt = local_backend.tokens(validate({"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": [
        {"role": "user", "content": "Burst test. Name a bird."}]}))
    _until(lambda: not engine._warming and not any(slot.job for slot in engine.slots), 30)
    assert 200 < len(long_prompt) < local_backend.llm.n_batch

    first = _submit(engine, long_prompt, 8)
    _until(lambda: engine._restartable, 30)  # the long prompt's step is under way, open to newcomers
    second = _submit(engine, short_prompt, 8)
    assert first["done"].wait(60) and second["done"].wait(60)
    assert first["first_step"] == second["first_step"]
    for prompt, together in ((long_prompt, first), (short_prompt, second)):
        alone = _submit(engine, prompt, 8)
        assert alone["done"].wait(60) and alone["text"] == together["text"]


def test_a_newcomer_with_no_free_slot_restarts_nothing() -> None:
    """With every slot taken, a request that arrives during a prompt step waits its turn: the
    step goes on, and the prompt is read in one step."""
    backend = LocalBackend(n_ctx=1024, parallel=1, n_threads=1)
    engine = backend.engine
    try:
        _until(lambda: not engine._warming and all(slot.cached for slot in engine.slots), 30)
        prompt = backend.llm.tokenize(f"{uuid.uuid4().hex} " + "Rivers, walls and willows. " * 40)
        steps = engine.steps
        first = _submit(engine, prompt, 2)
        _until(lambda: any(slot.job is not None for slot in engine.slots) and engine.steps == steps, 30)
        late = _submit(engine, prompt[:40], 1)
        assert first["done"].wait(60) and late["done"].wait(60)
        assert first["first_step"] == steps + 1  # the whole prompt in one step: never aborted for the newcomer
    finally:
        engine.close()


def validate(body: dict):
    """The request as the server's validation hands it to the backend."""
    from claudewire.server.catalogue import Catalogue, ModelEntry
    from claudewire.server.validation import validate_create

    entry = ModelEntry("smollm2-135m-instruct", "SmolLM2", "2024-11-01T00:00:00Z", 2048, 2048)
    return validate_create(json.dumps(body).encode(), Catalogue(entry))


def test_second_turn_reads_the_cache_and_says_so(local_server, local_backend) -> None:
    client = client_for(local_server)
    system = f"Session {uuid.uuid4().hex}. You are a patient teacher who explains things simply. " * 4
    turn = [{"role": "user", "content": "What is a noun?"}]
    first = client.messages.create(model="claude-sonnet-4-6", max_tokens=20, system=system, messages=turn,
                                   extra_body={"temperature": 0})
    opening = len(local_backend.llm.tokenize("<|im_start|>system\n"))  # all a new system prompt shares with earlier ones
    assert first.usage.cache_read_input_tokens <= opening
    turn += [{"role": "assistant", "content": first.content[0].text}, {"role": "user", "content": "And a verb?"}]
    counted = client.messages.count_tokens(model="claude-sonnet-4-6", system=system, messages=turn).input_tokens
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=20, system=system, messages=turn) as stream:
        events = list(stream)
    start = next(e for e in events if e.type == "message_start").message.usage
    end = next(e for e in events if e.type == "message_delta").usage
    assert start.cache_read_input_tokens > 60 and start.input_tokens + start.cache_read_input_tokens == counted
    assert (end.input_tokens, end.cache_read_input_tokens) == (start.input_tokens, start.cache_read_input_tokens)



def test_idle_slots_are_warmed_with_the_templates_opening() -> None:
    """SmolLM2's template opens every prompt without a system prompt with the same default system
    turn; an idle engine reads it into every empty slot, so even a first request reuses it."""
    backend = LocalBackend(n_ctx=1024, parallel=2, n_threads=1)
    with ServerThread(backend) as server:
        preamble = backend.engine.preamble
        assert len(preamble) > 16 and "SmolLM" in backend.llm.model.detokenize(preamble).decode()
        _until(lambda: all(slot.cached == preamble for slot in backend.engine.slots), 30)
        message = client_for(server).messages.create(model="claude-sonnet-4-6", max_tokens=3, extra_body={"temperature": 0},
                                                     messages=[{"role": "user", "content": "Hello"}])
        assert message.usage.cache_read_input_tokens == len(preamble) and message.usage.input_tokens > 0


def test_a_conversation_whose_slot_was_taken_comes_back_from_host_memory(local_server, local_backend) -> None:
    """The next turn of a conversation whose slot was taken is read from the host-memory prompt
    cache, and answers exactly as if its history were read again."""
    client = client_for(local_server)
    engine = local_backend.engine
    system = f"Notebook {uuid.uuid4().hex}. You keep notes about rivers and answer briefly. " * 3
    turn = [{"role": "user", "content": "Name a long river."}]
    first = client.messages.create(model="claude-sonnet-4-6", max_tokens=16, system=system, messages=turn,
                                   extra_body={"temperature": 0})
    # the same notebook, another question: it takes the slot that holds the first turn (the longest
    # shared prefix), keeps the system prompt and writes its own question over the rest
    client.messages.create(model="claude-sonnet-4-6", max_tokens=2, system=system, extra_body={"temperature": 0},
                           messages=[{"role": "user", "content": "What is a lake?"}])
    params = {"model": "claude-sonnet-4-6", "max_tokens": 16, "system": system, "extra_body": {"temperature": 0},
              "messages": turn + [{"role": "assistant", "content": first.content[0].text},
                                  {"role": "user", "content": "And another?"}]}
    opening = local_backend.tokens(validate({"model": "claude-sonnet-4-6", "max_tokens": 16, "system": system, "messages": turn}))
    assert not any(slot.cached[: len(opening) - 1] == opening[:-1] for slot in engine.slots)  # no slot holds the first turn now
    hits = engine.cache.hits
    again = client.messages.create(**params)
    assert engine.cache.hits == hits + 1
    metrics = httpx2.get(local_server.base_url + "/metrics", timeout=10).text
    assert f"claudewire_prompt_cache_restores {float(hits + 1)}" in metrics and "claudewire_prompt_cache_bytes " in metrics
    assert again.usage.cache_read_input_tokens >= first.usage.input_tokens + first.usage.cache_read_input_tokens
    assert again.content[0].text


def test_a_host_memory_too_small_for_two_conversations_drops_the_older_one() -> None:
    """One slot, room in host memory for one conversation's state: saving the second evicts the
    first, and the first one's next turn is read again from its text, with no error."""
    backend = LocalBackend(n_ctx=1024, parallel=1, n_threads=1, cache_ram_mb=6)  # one 200-token state is about 5 MB
    with ServerThread(backend) as server:
        client = client_for(server)

        def turn(system: str, messages: list[dict]) -> anthropic.types.Message:
            return client.messages.create(model="claude-sonnet-4-6", max_tokens=4, system=system, messages=messages,
                                          extra_body={"temperature": 0})

        first_system, other_system = (f"{name} {uuid.uuid4().hex}. " + "Rivers, walls and willows. " * 25 for name in ("First", "Other"))
        asked = [{"role": "user", "content": "Name a river."}]
        first = turn(first_system, asked)
        turn(other_system, asked)  # the slot goes to another conversation: the first one's state is saved
        assert len(backend.engine.cache) == 1
        again = turn(first_system, asked + [{"role": "assistant", "content": first.content[0].text},
                                            {"role": "user", "content": "Another?"}])  # saving the other evicts it
        assert len(backend.engine.cache) == 1 and backend.engine.cache.hits == 0
        assert again.content[0].text and again.usage.cache_read_input_tokens < 10


def test_a_saved_kv_state_restores_exactly() -> None:
    """What the host-memory cache copies back is what was computed: the next token's logits
    from a restored sequence equal the original's, bit for bit."""
    import llama_cpp
    from llama_cpp import _internals as internals

    from claudewire.server.backends.local.model import Model, model_path
    from claudewire.server.backends.local.prompt_cache import PromptCache

    model = Model(str(model_path()), window=512, n_seq=2, n_batch=512, n_threads=1, n_threads_batch=1)
    batch = internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=1, verbose=False)
    try:
        tokens = model.tokenize("The village sat between two rivers, and every spring the water rose. " * 8)[:120]

        def logits_after(seq: int, prefix: int) -> list[float]:
            b = batch.batch
            for i, token in enumerate(tokens[prefix:]):
                b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, prefix + i, 1, False
                b.seq_id[i][0] = seq
            b.logits[len(tokens) - prefix - 1] = True
            b.n_tokens = len(tokens) - prefix
            assert llama_cpp.llama_decode(model.context.ctx, b) == 0
            row = llama_cpp.llama_get_logits_ith(model.context.ctx, len(tokens) - prefix - 1)
            return [row[i] for i in range(model.model.n_vocab())]

        logits_after(0, 0)  # the whole text into sequence 0
        model.forget(0, len(tokens) - 1)  # all but its last token
        cache = PromptCache(model.context.ctx, 64 << 20)
        cache.save(0, tokens[:-1])
        original = logits_after(0, len(tokens) - 1)  # the last token again, on what sequence 0 holds
        saved, held = cache.best(tokens)
        assert saved is not None and held == len(tokens) - 1 and cache.held > 0
        assert cache.restore(saved, 1)
        assert logits_after(1, len(tokens) - 1) == original  # the same token, on the copy in sequence 1
    finally:
        batch.close()
        model.close()


def test_the_greedy_argmax_picks_what_llama_cpps_greedy_sampler_picks() -> None:
    """Temperature 0 without a grammar reads the logits in place; at every step of a reply its
    token is the one llama.cpp's own greedy sampler chooses from the same logits."""
    import llama_cpp
    from llama_cpp import _internals as internals

    from claudewire.server.backends.local.model import Model, model_path
    from claudewire.server.backends.local.sampling import Argmax, Chain, Sampling

    model = Model(str(model_path()), window=512, n_seq=1, n_batch=512, n_threads=1, n_threads_batch=1)
    batch = internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=1, verbose=False)
    fast, reference = Sampling(temperature=0).picker(model.model), Chain(Sampling(temperature=0).chain(model.model))
    assert isinstance(fast, Argmax) and not isinstance(Sampling(temperature=0.7).picker(model.model), Argmax)
    try:
        tokens = model.tokenize("<|im_start|>user\nWrite a poem about rain.<|im_end|>\n<|im_start|>assistant\n")
        picks = []
        position = 0
        while len(picks) < 40:
            b = batch.batch
            for i, token in enumerate(tokens):
                b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, position + i, 1, False
                b.seq_id[i][0] = 0
            b.logits[len(tokens) - 1] = True
            b.n_tokens = len(tokens)
            assert llama_cpp.llama_decode(model.context.ctx, b) == 0
            position += len(tokens)
            token = fast.pick(model.context.ctx, len(tokens) - 1)
            assert token == reference.pick(model.context.ctx, len(tokens) - 1)
            picks.append(token)
            tokens = [token]
        assert len(set(picks)) > 5  # a real reply, not one token over and over
    finally:
        reference.close()
        batch.close()
        model.close()


SCHEMAS = {
    "book_flight": {
        "type": "object",
        "properties": {
            "passenger": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                          "required": ["name", "age"]},
            "cabin": {"type": "string", "enum": ["economy", "business", "first"]},
            "stops": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "meal": {"type": "string"},
        },
        "required": ["passenger", "cabin", "stops"],
    },
    "set_thermostat": {
        "type": "object",
        "properties": {"celsius": {"type": "number"}, "mode": {"type": "string", "enum": ["heat", "cool", "off"]},
                       "rooms": {"type": "array", "items": {"type": "integer"}}},
        "required": ["celsius", "mode"],
    },
}
TOOLS = [{"name": name, "description": f"{name.replace('_', ' ')}", "input_schema": schema} for name, schema in SCHEMAS.items()]


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_forced_tool_use_is_schema_valid_and_streamed_in_fragments(local_server, name) -> None:
    client = client_for(local_server)
    ask = {"book_flight": "Book Ana (31) a business flight via Paris.", "set_thermostat": "Make the kitchen 21 degrees, heating."}
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=120, tools=TOOLS, tool_choice={"type": "tool", "name": name},
                                messages=[{"role": "user", "content": ask[name]}], extra_body={"temperature": 0}) as stream:
        fragments = [e.delta.partial_json for e in stream if e.type == "content_block_delta" and e.delta.partial_json]
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use" and len(fragments) > 1
    (call,) = message.content
    assert call.type == "tool_use" and call.name == name
    jsonschema.validate(call.input, SCHEMAS[name])
    assert json.loads("".join(fragments)) == call.input


def test_any_tool_choice_picks_one_of_the_given_names(local_server) -> None:
    client = client_for(local_server)
    message = client.messages.create(model="claude-sonnet-4-6", max_tokens=120, tools=TOOLS, tool_choice={"type": "any"},
                                     messages=[{"role": "user", "content": "It is cold in the bedroom."}])
    (call,) = message.content
    assert message.stop_reason == "tool_use" and call.name in SCHEMAS
    jsonschema.validate(call.input, SCHEMAS[call.name])


def test_auto_tool_choice_returns_what_the_model_wrote(local_server) -> None:
    client = client_for(local_server)
    message = client.messages.create(model="claude-sonnet-4-6", max_tokens=120, tools=TOOLS, extra_body={"temperature": 0},
                                     messages=[{"role": "user", "content": "Set the thermostat to 19 degrees, cooling."}])
    kinds = [block.type for block in message.content]
    if message.stop_reason == "tool_use":  # the model wrote <tool_call>: the arguments were held to the schema
        call = message.content[-1]
        assert kinds[-1] == "tool_use" and call.name in SCHEMAS
        jsonschema.validate(call.input, SCHEMAS[call.name])
    else:
        assert kinds == ["text"] and "<tool_call>" not in message.content[0].text


def test_tools_and_tool_results_count_and_reach_the_prompt(local_server, local_backend) -> None:
    client = client_for(local_server)
    history = [
        {"role": "user", "content": "Warm the kitchen."},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "set_thermostat",
                                           "input": {"celsius": 22, "mode": "heat"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "done: 22C"}]},
    ]
    bare = client.messages.count_tokens(model="claude-sonnet-4-6", messages=history).input_tokens
    with_tools = client.messages.count_tokens(model="claude-sonnet-4-6", messages=history, tools=TOOLS).input_tokens
    assert with_tools > bare + 100
    prompt = local_backend.render(validate({"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": history, "tools": TOOLS}))
    assert '"name": "set_thermostat", "arguments": {"celsius": 22, "mode": "heat"}' in prompt
    assert "<tool_response>\ndone: 22C\n</tool_response>" in prompt and '"enum": ["heat", "cool", "off"]' in prompt
    message = client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=history, tools=TOOLS)
    assert message.usage.input_tokens + message.usage.cache_read_input_tokens == with_tools


def test_thinking_enabled_is_refused_and_adaptive_answers_without_it(local_server) -> None:
    client = client_for(local_server)
    hi = [{"role": "user", "content": "Hi"}]
    with pytest.raises(anthropic.BadRequestError, match="cannot think"):
        client.messages.create(model="claude-sonnet-4-6", max_tokens=2000, messages=hi,
                               thinking={"type": "enabled", "budget_tokens": 1024})
    message = client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=hi, extra_body={"thinking": {"type": "adaptive"}})
    assert [b.type for b in message.content] == ["text"]


def test_prompt_renderer_is_the_template_plus_tools() -> None:
    template = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}" \
               "{{ '<|im_start|>assistant\\n' }}"
    render = PromptRenderer(template, "smollm2-135m-instruct")
    params = validate({"model": "claude-sonnet-4-6", "max_tokens": 5, "tools": TOOLS[:1], "tool_choice": {"type": "any"},
                       "messages": [{"role": "user", "content": "Fly me."}]})
    prompt = render(params)
    assert prompt.startswith("<|im_start|>system\nYou are an expert in composing functions.")
    assert prompt.endswith("<|im_start|>assistant\n<tool_call>[\n")
