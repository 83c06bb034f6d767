"""Streaming tests that run offline, from cassettes recorded once against a real API.

    pytest examples/offline_tests                        # replays cassettes/ (no network, no key)
    pytest examples/offline_tests --claudewire-record    # records them again from the API in ANTHROPIC_API_KEY

The ``claudewire_replay`` fixture (from ``claudewire.pytest_plugin``, enabled in conftest.py)
serves this folder's ``cassettes/`` and points ANTHROPIC_BASE_URL at it for each test,
so the code under test builds its client as it always does.
"""

import anthropic

PROMPT = [{"role": "user", "content": "Explain quantum computing in one sentence."}]


def summarize(client: anthropic.Anthropic) -> tuple[str, str]:
    """The code under test: streams a reply and returns its text and stop reason."""
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=128, messages=PROMPT) as stream:
        text = "".join(stream.text_stream)
        return text, stream.get_final_message().stop_reason


def test_a_streamed_reply(claudewire_replay) -> None:
    text, stop_reason = summarize(anthropic.Anthropic())
    assert text.strip() and stop_reason in ("end_turn", "max_tokens")


def test_the_raw_events_arrive_in_order(claudewire_replay) -> None:
    client = anthropic.Anthropic()
    kinds = [event.type for event in client.messages.create(model="claude-sonnet-4-6", max_tokens=128, messages=PROMPT, stream=True)]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop" and "content_block_delta" in kinds


def test_counting_tokens(claudewire_replay) -> None:
    assert anthropic.Anthropic().messages.count_tokens(model="claude-sonnet-4-6", messages=PROMPT).input_tokens > 0
