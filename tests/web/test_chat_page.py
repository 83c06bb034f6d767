"""The web chat page in a real browser against real servers: streaming as a person sees it,
Stop, reload and cut connections, sanitizing, retries and errors, history, settings."""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Page, expect

from claudewire.protocol.sse import SSEDecoder

from ..conftest import load_vector, vector_names
from .conftest import DESKTOP, PHONE, ServeProcess

VERSION = {"anthropic-version": "2023-06-01"}
WATCH_GROWTH = """() => {
  window.__lengths = [];
  new MutationObserver(() => {
    const answer = [...document.querySelectorAll('[data-testid=message-assistant]')].at(-1);
    if (!answer || answer.dataset.status !== 'streaming') return;
    const length = answer.querySelector('.blocks').innerText.length;
    if (window.__lengths.at(-1) !== length) window.__lengths.push(length);
  }).observe(document.getElementById('messages'), {subtree: true, childList: true, characterData: true, attributes: true});
}"""
LAST_ANSWER = """() => {
  const conversation = JSON.parse(localStorage.getItem('claudewire.conversation.' + localStorage.getItem('claudewire.current')));
  return conversation.messages.filter(m => m.role === 'assistant').at(-1);
}"""


class Chat:
    """The page as a person uses it, through its data-testid hooks."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.posts: list[Any] = []  # every POST /v1/messages the page made
        self.resumes: list[Any] = []  # every GET /v1/messages/streams/{id}
        self.stream_ids: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)

    def _request(self, request: Any) -> None:
        if request.url == self.base_url + "/v1/messages" and request.method == "POST":
            self.posts.append(request)
        elif "/v1/messages/streams/" in request.url and request.method == "GET":
            self.resumes.append(request)

    def _response(self, response: Any) -> None:
        stream_id = response.headers.get("x-claudewire-stream-id")
        if response.request.method == "POST" and stream_id:
            self.stream_ids.append(stream_id)

    def open(self) -> Chat:
        self.page.goto(self.base_url + "/")
        expect(self.page.get_by_test_id("model").locator("option").first).to_be_attached()
        return self

    def inject(self, **headers: str) -> None:
        """Extra request headers on the page's POSTs (the scripted backend's pacing and faults)."""
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        self.page.unroute("**/v1/messages")
        self.page.route("**/v1/messages", lambda route: route.continue_(headers={**route.request.headers, **extra}))

    def send(self, text: str) -> None:
        self.page.get_by_test_id("prompt").fill(text)
        self.page.get_by_test_id("prompt").press("Enter")

    @property
    def answer(self) -> Any:
        return self.page.get_by_test_id("message-assistant").last

    def wait(self, status: str = "done", timeout: float = 10_000) -> None:
        expect(self.answer).to_have_attribute("data-status", status, timeout=timeout)

    def wait_words(self, count: int) -> None:
        self.page.wait_for_function(
            "n => ([...document.querySelectorAll('[data-testid=message-assistant] .blocks')].at(-1)?.innerText ?? '')"
            ".trim().split(/\\s+/).length >= n",
            arg=count,
        )

    def stored(self) -> dict[str, Any]:
        """The last answer as the page keeps it (its raw text, status, error)."""
        return self.page.evaluate(LAST_ANSWER)

    def stored_text(self) -> str:
        return "".join(b.get("text", "") for b in self.stored()["message"]["content"] if b["type"] == "text")


@pytest.fixture
def chat(browser: Any, scripted_serve: ServeProcess) -> Any:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield Chat(page, scripted_serve.base_url).open()
    context.close()
    assert not errors, errors


def prompt_of(words: int, tag: str = "word") -> str:
    return " ".join(f"{tag}{i}" for i in range(words))


def server_events(base_url: str, stream_id: str) -> list[dict[str, Any]]:
    """The stream as the server kept it, replayed from the start with a plain HTTP client."""
    response = httpx2.get(f"{base_url}/v1/messages/streams/{stream_id}", headers=VERSION, timeout=10)
    assert response.status_code == 200, response.text
    decoder = SSEDecoder()
    return [json.loads(e.data) for e in decoder.feed(response.content) if e.event != "ping"]


# --- streaming as a person sees it ------------------------------------------------------------


def test_answer_grows_token_by_token_and_renders_markdown(chat: Chat, artifacts: Any) -> None:
    chat.inject(x_claudewire_delay_ms="40")
    chat.page.evaluate(WATCH_GROWTH)
    text = (
        "Here is **bold** and `code`:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\n"
        "- first item\n- second item\n\n| name | value |\n|---|---|\n| alpha | 1 |\n| beta | 2 |\n\nThe end."
    )
    chat.send(text)
    chat.wait("done")
    lengths = chat.page.evaluate("window.__lengths")
    growths = sum(b > a for a, b in itertools.pairwise(lengths))
    assert growths >= 5, lengths  # seen growing before it completed (a table row may fold as it forms)
    assert chat.stored_text() == text
    answer = chat.answer
    expect(answer.locator("pre code")).to_have_text("def add(a, b):\n    return a + b\n")
    expect(answer.get_by_role("button", name="Copy code")).to_be_visible()
    expect(answer.locator("li")).to_have_count(2)
    expect(answer.locator("table td")).to_have_text(["alpha", "1", "beta", "2"])
    expect(answer.locator("strong")).to_have_text("bold")
    expect(answer.get_by_test_id("stop-reason")).to_have_text("end_turn")
    words = len(text.split())  # the scripted backend counts words
    expect(answer.get_by_test_id("usage")).to_have_text(f"{words} in · {words} out tokens")
    expect(answer.get_by_test_id("timing")).to_contain_text("first token")
    expect(answer.get_by_test_id("timing")).to_contain_text("tokens/s")
    model = chat.page.get_by_test_id("model").input_value()  # the first listed; the scripted backend answers
    assert answer.locator("[data-testid=answered-by]").text_content() == ("" if model == "claudewire-scripted" else "answered by claudewire-scripted")
    assert chat.page.get_by_role("log").get_attribute("aria-live") == "polite"
    chat.page.screenshot(path=str(artifacts / "desktop.png"))
    chat.page.set_viewport_size(PHONE)
    chat.page.screenshot(path=str(artifacts / "phone.png"))
    assert chat.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling


def test_unfinished_code_fence_and_list_render_while_streaming(chat: Chat, artifacts: Any) -> None:
    chat.inject(x_claudewire_delay_ms="60")
    code = "".join(f"let v{i} = {i};\n" for i in range(10))
    chat.send(f"Steps:\n\n- one\n- two\n\n```js\n{code}```")
    chat.wait_words(8)  # inside the fence, which is still open
    expect(chat.answer.locator("li")).to_have_count(2)
    expect(chat.answer.locator("pre code")).to_contain_text("let v0 = 0;")
    assert "```" not in chat.answer.inner_text()
    chat.page.screenshot(path=str(artifacts / "streaming.png"))
    chat.wait("done")


# --- Stop -----------------------------------------------------------------------------------


def test_stop_button_and_escape_stop_the_scripted_stream_on_the_server(chat: Chat) -> None:
    chat.inject(x_claudewire_delay_ms="100")
    text = prompt_of(60)
    chat.send(text)
    chat.wait_words(3)
    chat.page.get_by_test_id("stop").click()
    chat.wait("stopped", timeout=1000)
    expect(chat.answer.get_by_test_id("stop-reason")).to_have_text("stopped by you")
    expect(chat.page.get_by_test_id("send")).to_be_visible()
    kept = chat.stored_text()
    assert kept and text.startswith(kept) and len(kept) < len(text)
    # The server stopped too: its log ends with the cancel, well short of the whole answer.
    events = server_events(chat.base_url, chat.stream_ids[-1])
    assert events[-1]["type"] == "error" and events[-1]["error"]["type"] == "stream_cancelled_error"
    deltas = sum(e["type"] == "content_block_delta" for e in events)
    assert deltas < 30
    chat.page.wait_for_timeout(300)
    assert chat.stored_text() == kept  # nothing more arrives after Stop

    chat.page.get_by_test_id("regenerate").click()  # and with the keyboard
    chat.wait_words(3)
    chat.page.keyboard.press("Escape")
    chat.wait("stopped", timeout=1000)
    events = server_events(chat.base_url, chat.stream_ids[-1])
    assert events[-1]["error"]["type"] == "stream_cancelled_error"


def test_stop_before_the_server_answered_cancels_the_stream_once_its_id_comes(chat: Chat) -> None:
    held: list[Any] = []
    chat.page.route("**/v1/messages", lambda route: held.append(route))  # the request waits here until we let it go
    chat.send(prompt_of(60, "early"))
    chat.page.wait_for_function("() => document.querySelector('[data-testid=stop]').hidden === false")
    while not held:
        chat.page.wait_for_timeout(10)
    chat.page.get_by_test_id("stop").click()
    chat.wait("stopped", timeout=1000)  # at once, though the server has not answered yet
    held[0].continue_(headers={**held[0].request.headers, "x-claudewire-delay-ms": "50"})
    while not chat.stream_ids:
        chat.page.wait_for_timeout(10)
    events = server_events(chat.base_url, chat.stream_ids[-1])
    assert events[-1]["type"] == "error" and events[-1]["error"]["type"] == "stream_cancelled_error"
    assert sum(e["type"] == "content_block_delta" for e in events) < 30
    stored = chat.stored()
    assert stored["status"] == "stopped" and stored["message"] is None  # and nothing was shown after the Stop


@pytest.mark.local
def test_stop_stops_the_local_model_within_a_second(browser: Any, local_server: Any, local_backend: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        chat = Chat(context.new_page(), local_server.base_url).open()
        chat.page.get_by_role("button", name="Settings").click()
        chat.page.get_by_test_id("max-tokens").fill("1500")
        chat.page.get_by_test_id("max-tokens").dispatch_event("change")
        chat.send("Write a very long story about a lighthouse keeper and the sea, with many chapters.")
        chat.wait_words(5)
        assert local_backend.active, "the model finished before Stop could be tried"
        clicked = time.monotonic()
        chat.page.get_by_test_id("stop").click()
        while local_backend.active and time.monotonic() - clicked < 3:
            time.sleep(0.01)
        stopped_after = time.monotonic() - clicked
        assert not local_backend.active and stopped_after < 1.0, stopped_after
        generated = local_backend.tokens_generated
        chat.wait("stopped")
        time.sleep(0.3)
        assert local_backend.tokens_generated == generated, "a token after the stop"  # the CPU is idle

        # Stop (Esc) before the server has answered: once the stream id comes, the model is stopped too.
        held: list[Any] = []
        chat.page.route("**/v1/messages", lambda route: held.append(route))
        chat.page.get_by_test_id("regenerate").click()
        while not held:
            chat.page.wait_for_timeout(10)
        chat.page.keyboard.press("Escape")
        chat.wait("stopped")
        held[0].continue_()
        deadline = time.monotonic() + 30
        while len(chat.stream_ids) < 2 and time.monotonic() < deadline:
            chat.page.wait_for_timeout(20)
        events = server_events(local_server.base_url, chat.stream_ids[-1])
        assert events[-1]["type"] == "error" and events[-1]["error"]["type"] == "stream_cancelled_error", events[-1]
        deltas = sum(e["type"] == "content_block_delta" for e in events)
        assert deltas < 100, deltas  # not the 1,500 asked for
        assert not local_backend.active
    finally:
        context.close()


# --- reloads and cut connections ----------------------------------------------------------------


def test_reload_mid_answer_continues_the_same_answer(chat: Chat) -> None:
    text = prompt_of(40, "reload")
    chat.inject(x_claudewire_delay_ms="60")
    chat.send(text)
    chat.wait_words(5)
    chat.page.reload()
    chat.wait("done")
    assert chat.stored_text() == text  # every word once, in order
    expect(chat.answer.get_by_test_id("stop-reason")).to_have_text("end_turn")
    assert len(chat.posts) == 1  # resumed, not asked again
    resume = chat.resumes[-1]
    assert int(resume.all_headers()["last-event-id"]) > 3
    assert chat.page.get_by_test_id("message-assistant").count() == 1


def test_a_closed_tab_comes_back_to_the_whole_answer(browser: Any, scripted_serve: ServeProcess) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        chat = Chat(context.new_page(), scripted_serve.base_url).open()
        chat.inject(x_claudewire_delay_ms="30")
        text = prompt_of(30, "later")
        chat.send(text)
        chat.wait_words(4)
        chat.page.close()
        events = server_events(scripted_serve.base_url, chat.stream_ids[-1])  # the server went on alone
        assert events[-1]["type"] == "message_stop"
        again = Chat(context.new_page(), scripted_serve.base_url).open()
        again.wait("done")
        assert again.stored_text() == text
        assert again.posts == [] and len(again.resumes) == 1
    finally:
        context.close()


def test_coming_back_after_the_stream_expired_says_so_and_keeps_the_part(browser: Any) -> None:
    server = ServeProcess("--backend", "scripted", "--faults", "--resume-ttl", "0.3")
    context = browser.new_context(viewport=DESKTOP)
    try:
        chat = Chat(context.new_page(), server.base_url).open()
        chat.inject(x_claudewire_delay_ms="20")
        chat.send(prompt_of(20, "gone"))
        chat.wait_words(3)
        chat.page.close()
        events = server_events(server.base_url, chat.stream_ids[-1])  # finished; expires 0.3 s later
        assert events[-1]["type"] == "message_stop"
        time.sleep(0.6)
        again = Chat(context.new_page(), server.base_url).open()
        again.wait("interrupted")
        expect(again.answer.get_by_test_id("error")).to_contain_text("can no longer be resumed")
        expect(again.answer.get_by_test_id("error")).to_contain_text("expired")
        assert again.stored_text().startswith("gone0 gone1 gone2")  # what had come is kept
    finally:
        context.close()
        server.stop()


def test_connection_cut_mid_answer_resumes_to_the_uncut_text(chat: Chat) -> None:
    text = prompt_of(30, "cut") + "\n\n- a list\n- to render"
    chat.send(text)
    chat.wait("done")
    uncut = chat.stored_text(), chat.answer.locator(".blocks").inner_html()
    chat.page.get_by_test_id("new-chat").click()
    chat.inject(x_claudewire_delay_ms="20", x_claudewire_fault="disconnect_after=6; times=1", x_claudewire_fault_id=uuid.uuid4().hex)
    chat.send(text)
    chat.wait("done")
    assert (chat.stored_text(), chat.answer.locator(".blocks").inner_html()) == uncut
    assert len(chat.posts) == 2 and len(chat.resumes) >= 1  # the second answer was resumed after the cut
    assert chat.answer.get_by_test_id("error").is_hidden()


def test_network_lost_mid_answer_then_back(chat: Chat) -> None:
    text = prompt_of(24, "net")
    chat.inject(x_claudewire_delay_ms="100", x_claudewire_fault="disconnect_after=8; times=1", x_claudewire_fault_id=uuid.uuid4().hex)
    chat.send(text)
    chat.wait_words(2)
    chat.page.context.set_offline(True)  # the connection breaks while the browser is offline
    expect(chat.page.get_by_test_id("banner")).to_contain_text("You are offline")
    expect(chat.answer.get_by_role("status")).to_contain_text("Connection lost. Reconnecting in", timeout=10_000)
    kept = chat.stored_text()
    chat.page.context.set_offline(False)
    chat.wait("done")
    assert kept and chat.stored_text() == text
    assert chat.answer.get_by_test_id("error").is_hidden()


# --- sanitizing ---------------------------------------------------------------------------------


def test_html_in_model_output_is_text_and_runs_nothing(chat: Chat) -> None:
    remote: list[str] = []
    chat.page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(chat.base_url) else None)
    payload = (
        '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>\n\n'
        "![tracker](http://192.0.2.1/pixel.png) [click](javascript:window.__pwned=3) "
        '<a href="http://192.0.2.1/" onclick="window.__pwned=4">link</a>'
    )
    chat.send(payload)
    chat.wait("done")
    answer = chat.answer
    expect(answer).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(answer).to_contain_text("<script>window.__pwned=2</script>")
    assert answer.locator("img, script, iframe, [onerror], [onclick]").count() == 0
    assert answer.locator("a[href^='javascript']").count() == 0
    for link in answer.locator("a").all():
        assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert chat.page.evaluate("window.__pwned") is None
    assert remote == []  # nothing remote was loaded
    assert chat.page.get_by_test_id("message-user").locator("img, script").count() == 0


# --- errors -------------------------------------------------------------------------------------


def test_overloaded_and_rate_limited_are_retried_with_a_countdown(chat: Chat) -> None:
    chat.inject(x_claudewire_fault="overloaded; times=1", x_claudewire_fault_id=uuid.uuid4().hex)
    chat.send("first try fails")
    chat.wait("done")
    assert chat.stored_text() == "first try fails"
    assert [r.response().status for r in chat.posts] == [529, 200]

    chat.inject(x_claudewire_fault="rate_limit; times=1", x_claudewire_fault_id=uuid.uuid4().hex)
    chat.send("then a rate limit")
    status = chat.answer.get_by_role("status")
    expect(status).to_contain_text("Rate limited (429)")
    expect(status).to_contain_text("Retrying in 1 s")
    chat.wait("done")
    assert chat.stored_text() == "then a rate limit"
    expect(status).to_be_hidden()


def test_mid_stream_error_keeps_the_partial_answer(chat: Chat, artifacts: Any) -> None:
    chat.inject(x_claudewire_fault="error_after=4")
    chat.send(prompt_of(12, "part"))
    chat.wait("interrupted")
    assert chat.stored_text() == prompt_of(4, "part")
    expect(chat.answer.locator(".blocks")).to_have_text(prompt_of(4, "part"))
    error = chat.answer.get_by_test_id("error")
    expect(error).to_contain_text("interrupted")
    expect(error).to_contain_text("Overloaded")
    expect(error).to_contain_text("partial answer is kept")
    expect(chat.answer.get_by_test_id("stop-reason")).to_have_text("interrupted")
    chat.page.screenshot(path=str(artifacts / "interrupted.png"))


def test_unreachable_server_is_said_plainly(browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        server = ServeProcess("--backend", "scripted")
        chat = Chat(context.new_page(), server.base_url).open()
        server.stop()
        chat.send("anyone there?")
        expect(chat.answer.get_by_role("status")).to_contain_text("The server cannot be reached")
        expect(chat.answer.get_by_role("status")).to_contain_text("Retrying in")
        chat.page.keyboard.press("Escape")
        chat.wait("stopped")
    finally:
        context.close()


# --- conversations and settings -------------------------------------------------------------------


def test_two_turns_send_the_history(chat: Chat) -> None:
    chat.send("alpha beta")
    chat.wait("done")
    chat.send("gamma delta epsilon")
    chat.wait("done")
    sent = chat.posts[-1].post_data_json
    assert sent["messages"] == [
        {"role": "user", "content": "alpha beta"},
        {"role": "assistant", "content": [{"type": "text", "text": "alpha beta"}]},
        {"role": "user", "content": "gamma delta epsilon"},
    ]
    # What the server received: the scripted backend counts every word of every message.
    expect(chat.answer.get_by_test_id("usage")).to_have_text("7 in · 3 out tokens")
    events = server_events(chat.base_url, chat.stream_ids[-1])
    assert events[0]["message"]["usage"]["input_tokens"] == 7


def test_conversations_regenerate_edit_and_delete(chat: Chat) -> None:
    page = chat.page
    chat.send("first conversation")
    chat.wait("done")
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    chat.send("second one\nwith two lines")
    chat.wait("done")
    page.get_by_test_id("regenerate").click()
    chat.wait("done")
    assert chat.posts[-1].post_data_json["messages"] == [{"role": "user", "content": "second one\nwith two lines"}]
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)

    page.get_by_test_id("edit").click()
    page.get_by_test_id("edit-prompt").fill("second, edited")
    page.get_by_test_id("edit-send").click()
    chat.wait("done")
    assert chat.stored_text() == "second, edited"
    expect(page.get_by_test_id("message-user").locator(".user-text")).to_have_text(["second, edited"])

    page.reload()  # kept in the browser's storage
    items = page.get_by_test_id("conversations").locator("li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("second one")
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    page.get_by_role("button", name="Delete conversation: first conversation").click()
    expect(items).to_have_count(1)
    page.reload()
    expect(items).to_have_count(1)


def test_keyboard_only_and_phone_width(chat: Chat, artifacts: Any) -> None:
    page = chat.page
    page.set_viewport_size(PHONE)
    prompt = page.get_by_test_id("prompt")
    prompt.focus()
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    page.keyboard.press("Enter")
    chat.wait("done")
    assert chat.stored_text() == "line one\nline two"
    expect(prompt).to_have_value("")
    expect(prompt).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_test_id("new-chat")).to_be_hidden()  # the list folds away on a phone
    for _ in range(8):  # from the prompt back to the button that opens the list
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Conversations":
            break
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Conversations"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("new-chat")).to_be_visible()
    page.screenshot(path=str(artifacts / "phone-conversations.png"))
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("new-chat")).to_be_hidden()


def test_settings_reach_the_request_and_max_tokens_gets_a_hint(chat: Chat) -> None:
    page = chat.page
    page.get_by_role("button", name="Settings").click()
    model = page.get_by_test_id("model")
    model.select_option("claudewire-scripted")
    page.get_by_test_id("system").fill("Be brief.")
    page.get_by_test_id("system").dispatch_event("change")
    page.get_by_test_id("max-tokens").fill("3")
    page.get_by_test_id("max-tokens").dispatch_event("change")
    page.get_by_test_id("temperature").fill("0.5")
    page.get_by_test_id("temperature").dispatch_event("change")
    chat.send("one two three four five")
    chat.wait("done")
    sent = chat.posts[-1].post_data_json
    assert (sent["model"], sent["system"], sent["max_tokens"], sent["temperature"]) == ("claudewire-scripted", "Be brief.", 3, 0.5)
    assert sent["stream"] is True and chat.posts[-1].headers["x-claudewire-resumable"] == "true"
    expect(chat.answer.get_by_test_id("stop-reason")).to_have_text("max_tokens")
    expect(chat.answer.get_by_test_id("hint")).to_contain_text("raise max_tokens")
    page.reload()
    expect(page.get_by_test_id("max-tokens")).to_have_value("3")  # settings outlive a reload


def test_thinking_is_collapsed_and_tool_input_streams(chat: Chat, artifacts: Any) -> None:
    page = chat.page
    page.get_by_role("button", name="Settings").click()
    for testid, value in (("max-tokens", "4096"), ("thinking-budget", "1024")):
        page.get_by_test_id(testid).fill(value)
        page.get_by_test_id(testid).dispatch_event("change")
    chat.send("think first")
    chat.wait("done")
    thinking = chat.answer.get_by_test_id("thinking")
    expect(thinking).not_to_have_attribute("open", "")
    expect(thinking.locator("summary")).to_have_text("Thinking")
    assert "repeat the message back" in thinking.locator(".thinking-text").text_content()
    expect(chat.answer.locator(".text")).to_have_text("think first")

    page.get_by_test_id("thinking-budget").fill("")
    page.get_by_test_id("thinking-budget").dispatch_event("change")
    tools = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
    page.get_by_test_id("tools").fill(json.dumps(tools))
    page.get_by_test_id("tools").dispatch_event("change")
    page.route("**/v1/messages", lambda route: route.continue_(  # force the call, as tool_choice "any" would
        headers={**route.request.headers, "x-claudewire-delay-ms": "150"},
        post_data=json.dumps({**route.request.post_data_json, "tool_choice": {"type": "any"}}),
    ))
    chat.send("weather in Paris?")
    tool = chat.answer.get_by_test_id("tool-use")
    expect(tool).to_have_attribute("data-complete", "false")  # its input shown while it streams
    expect(tool.locator(".tool-input")).to_contain_text('{"city')
    chat.wait("done")
    expect(tool).to_have_attribute("data-complete", "true")
    expect(tool.locator(".tool-name")).to_have_text("Tool call: get_weather")
    assert json.loads(tool.locator(".tool-input").text_content()) == {"city": "example"}
    expect(chat.answer.get_by_test_id("stop-reason")).to_have_text("tool_use")
    chat.send("and tomorrow?")  # the call goes back with a tool_result saying the page runs no tools
    chat.wait("done")
    messages = chat.posts[-1].post_data_json["messages"]
    assert messages[-2]["content"][0]["type"] == "tool_use"
    assert messages[-1]["content"][0]["type"] == "tool_result" and messages[-1]["content"][0]["is_error"] is True
    chat.page.screenshot(path=str(artifacts / "thinking-and-tools.png"))


def test_api_key_setting_and_a_wrong_key(browser: Any) -> None:
    key = "sk-ant-page-test-" + uuid.uuid4().hex
    server = ServeProcess("--backend", "scripted", "--api-key", key)
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(server.base_url + "/")
        expect(page.get_by_test_id("banner")).to_contain_text("did not accept the API key")
        field = page.get_by_test_id("api-key")
        expect(field).to_be_focused()
        field.fill("wrong")
        field.dispatch_event("change")
        chat = Chat(page, server.base_url)
        chat.send("hello")
        chat.wait("failed")
        expect(chat.answer.get_by_test_id("error")).to_contain_text("did not accept the API key")
        field.fill(key)
        field.dispatch_event("change")
        expect(page.get_by_test_id("banner")).to_be_hidden()
        page.get_by_test_id("regenerate").click()
        chat.wait("done")
        assert chat.stored_text() == "hello"
        assert page.evaluate("sessionStorage.getItem('claudewire.api-key')") == key
        assert key not in page.evaluate("JSON.stringify(localStorage)")  # only for this tab
        assert all(key not in r.url for r in chat.posts + chat.resumes) and key not in page.url
    finally:
        context.close()
        server.stop()


def test_no_web_turns_the_page_off(scripted_serve: ServeProcess) -> None:
    page = httpx2.get(scripted_serve.base_url + "/")
    assert page.status_code == 200 and "data-testid=\"prompt\"" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = httpx2.get(scripted_serve.base_url + "/web/vendor/purify.es.mjs")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    server = ServeProcess("--backend", "scripted", "--no-web")
    try:
        response = httpx2.get(server.base_url + "/")
        assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"
        assert httpx2.get(server.base_url + "/web/app.js").status_code == 404
    finally:
        server.stop()


# --- the page's decoder and accumulator, on the shared transcripts ------------------------------

FOLD_EVERY_CHUNKING = """async (vectors) => {
  const { SSEDecoder } = await import('/web/sse.js');
  const { Accumulator } = await import('/web/accumulator.js');
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const results = {};
  for (const [name, base64] of Object.entries(vectors)) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const chunkings = [[bytes.length], Array(bytes.length).fill(1)];
    for (let k = 0; k < 30; k++) {
      const sizes = [];
      for (let left = bytes.length; left > 0; left -= sizes.at(-1)) sizes.push(1 + Math.floor(random() * Math.min(left, 40)));
      chunkings.push(sizes);
    }
    results[name] = chunkings.map((sizes) => {  // what readEvents() and a Turn do with a body
      const text = new TextDecoder();
      const sse = new SSEDecoder();
      const accumulator = new Accumulator();
      let textStream = '';
      let offset = 0;
      for (const size of sizes) {
        for (const raw of sse.feed(text.decode(bytes.subarray(offset, offset + size), { stream: true }))) {
          const event = JSON.parse(raw.data);
          accumulator.feed(event, raw.id);
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') textStream += event.delta.text;
        }
        offset += size;
      }
      return JSON.stringify({ message: accumulator.message, error: accumulator.state.error, textStream });
    });
  }
  return results;
}"""


def matches(expected: Any, actual: Any) -> bool:
    """Field by field; a field the expectation gives as null may be absent."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            (value is None and actual.get(key) is None) or (key in actual and matches(value, actual[key])) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(matches, expected, actual))
    return expected == actual


def test_the_page_folds_the_shared_transcripts_in_any_chunking(chat: Chat) -> None:
    vectors = {}
    for name in vector_names():  # as sent, and with every line ending turned into CRLF or CR
        body = load_vector(name)[0]
        for ending in ("\n", "\r\n", "\r"):
            vectors[f"{name}{ending!r}"] = base64.b64encode(body.replace(b"\n", ending.encode())).decode()
    results = chat.page.evaluate(FOLD_EVERY_CHUNKING, vectors)
    for key, outcomes in results.items():
        name = key.split("'")[0]
        assert len(set(outcomes)) == 1, key  # the same whatever the chunking
        got = json.loads(outcomes[0])
        expect_ = load_vector(name)[1]
        assert got["textStream"] == expect_["text_stream"], key
        if "message" in expect_:
            assert matches(expect_["message"], got["message"]), (key, got["message"])
        else:
            assert got["error"]["type"] == expect_["error"]["type"], key
            partial = "".join(b.get("text", "") for b in got["message"]["content"] if b["type"] == "text")
            assert partial == expect_["error"]["partial_text"], key
    # A CRLF split between two chunks ends one line, not two (else this event would break in half).
    split = chat.page.evaluate("""async () => {
      const { SSEDecoder } = await import('/web/sse.js');
      const body = '\\ufeffevent: ping\\r\\ndata: {"type":\\r\\ndata: "ping"}\\r\\nid: 7\\r\\n\\r\\n: comment\\r\\n';
      const sse = new SSEDecoder();
      return [...body].flatMap((c) => sse.feed(c));
    }""")
    assert split == [{"event": "ping", "data": '{"type":\n"ping"}', "id": "7"}]
