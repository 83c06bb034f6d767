"""A real browser's EventSource reads a relayed stream and resends Last-Event-ID on its own."""

from __future__ import annotations

import shutil

import httpx2
import pytest

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

from .helpers import RESUMABLE, body

READ = """async (url) => new Promise((resolve) => {
  const seen = [];
  const source = new EventSource(url);
  for (const name of ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop",
                      "message_delta", "message_stop"]) {
    source.addEventListener(name, (event) => seen.push([event.lastEventId, name, JSON.parse(event.data).type]));
  }
  // At the end of the body it reconnects by itself with Last-Event-ID; the 204 closes it for good.
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) resolve(seen); };
  setTimeout(() => resolve(seen), 15000);
})"""


def test_eventsource_reads_the_stream_and_reconnects_with_last_event_id() -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is part of the test extra")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is missing: scripts/setup test installs it"
    with ServerThread(ScriptedBackend()) as server:
        # EventSource sends no headers, so the stream is made without a key (a server without --api-key).
        headers = {"content-type": "application/json", "anthropic-version": "2023-06-01", **RESUMABLE}
        response = httpx2.post(server.base_url + "/v1/messages", json=body("one two three"), headers=headers)
        stream_id = response.headers["x-claudewire-stream-id"]
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
            try:
                page = browser.new_page()
                page.goto(server.base_url + "/health")  # same origin as the stream
                seen = page.evaluate(READ, f"/v1/messages/streams/{stream_id}")
            finally:
                browser.close()
    assert [name for _, name, _ in seen] == ["message_start", "content_block_start", "ping"] + ["content_block_delta"] * 3 + [
        "content_block_stop", "message_delta", "message_stop"], "every event once: the reconnect asked only for what came after"
    assert [int(event_id) for event_id, _, _ in seen] == list(range(1, 10))
    assert all(name == data_type for _, name, data_type in seen)
