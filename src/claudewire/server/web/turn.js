// One assistant answer, from the request to its end: retries before the first event (429,
// 529, 5xx, an unreachable server) with the delay counted down, resume after a cut (the
// connection, the network or the page itself), and a Stop that stops the server.
//
// A turn reports two things: update() after each event (the snapshot and the last event id,
// always consistent with each other, so the page can store them as they are) and status()
// while it waits. run() resolves once, with {status, error}: status is "done", "stopped",
// "interrupted" (the partial answer is kept) or "failed" (no answer at all).

import { Accumulator } from "./accumulator.js";
import { ApiError, readEvents } from "./api.js";

const MAX_RETRIES = 4; // attempts after the first, before any event arrived
const MAX_RECONNECTS = 8; // in a row without a new event
const MAX_DELAY = 60; // seconds, as the client's retry-after cap

export class Turn {
  constructor(api, body, { progress = null, onUpdate = () => {}, onStatus = () => {} } = {}) {
    this.api = api;
    this.body = body;
    this.streamId = progress?.streamId ?? null;
    this.backend = progress?.backend ?? null;
    this.acc = new Accumulator(progress?.state ?? null);
    this.startedAt = progress?.startedAt ?? Date.now();
    this.firstTokenAt = progress?.firstTokenAt ?? null;
    this.endedAt = null;
    this.controller = new AbortController();
    this.stopped = false;
    this.inFlight = false;
    this.onUpdate = onUpdate;
    this.onStatus = onStatus;
    this.result = null;
    this.settled = new Promise((resolve) => (this.resolve = resolve));
  }

  /** What the page stores to resume this turn after a reload: plain JSON. */
  get progress() {
    const { streamId, backend, startedAt, firstTokenAt } = this;
    return { streamId, backend, state: this.acc.state, startedAt, firstTokenAt };
  }

  get message() {
    return this.acc.message;
  }

  run() {
    this.main().then(
      (result) => this.settle(result.status, result.error),
      (error) => this.settle("interrupted", error instanceof ApiError ? error : new ApiError(0, "api_error", String(error?.message ?? error))),
    );
    return this.settled;
  }

  /** Stop at once: the answer so far is kept and the server stops generating. */
  stop() {
    if (this.result) return;
    this.stopped = true;
    if (this.streamId) this.cancelOnServer();
    else if (!this.inFlight) this.controller.abort();
    // else: the request is on its way; main() cancels the stream as soon as its id arrives
    this.settle("stopped", null);
  }

  settle(status, error) {
    if (this.result) return;
    this.endedAt = Date.now();
    this.result = { status: this.stopped ? "stopped" : status, error: this.stopped ? null : error };
    if (this.result.status === "interrupted" && !this.message) this.result.status = "failed";
    this.resolve(this.result);
  }

  cancelOnServer() {
    const id = this.streamId;
    this.api.cancel(id).catch((error) => console.warn(`claudewire: cancelling stream ${id} failed: ${error.message}`));
    this.controller.abort();
  }

  async main() {
    let response = null;
    if (this.streamId === null) {
      this.onStatus({ kind: "waiting" });
      const started = await this.retrying(() => this.api.start(this.body, this.controller.signal));
      this.streamId = started.streamId;
      this.backend = started.backend;
      response = started.response;
      if (this.stopped) {
        if (this.streamId) this.cancelOnServer();
        else this.controller.abort(); // a plain stream: leaving it stops the server
        return { status: "stopped" };
      }
      this.onUpdate(this);
    }
    if (this.acc.state.done) return { status: "done" }; // stored whole just before a reload
    if (this.acc.state.error) return { status: "interrupted", error: inBand(this.acc.state.error) };
    for (let reconnects = 0; ; reconnects++) {
      if (response === null) {
        if (reconnects > 0) await this.wait(backoff(reconnects - 1), (seconds) => ({ kind: "reconnecting", seconds }));
        try {
          this.onStatus({ kind: "reconnecting", seconds: 0 });
          response = await this.api.resume(this.streamId, this.acc.state.lastEventId, this.controller.signal);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          if (error.status === 404) return { status: "interrupted", error: expired(error) };
          if (!error.retryable || reconnects >= MAX_RECONNECTS) return { status: "interrupted", error };
          continue;
        }
      }
      this.onStatus({ kind: "streaming" });
      const { end, fresh } = await this.read(response);
      response = null;
      if (end === "complete") return { status: "done" };
      if (end === "error") return { status: "interrupted", error: inBand(this.acc.state.error) };
      if (!this.streamId) return { status: "interrupted", error: lost() }; // no resume offered
      if (end === "ended" && !fresh) return { status: "interrupted", error: lost() }; // nothing more will come
      if (fresh) reconnects = -1; // progress: the next reconnect goes at once
      else if (reconnects >= MAX_RECONNECTS) return { status: "interrupted", error: lost() };
    }
  }

  /** Fold the body's events; `end` says how it ended, `fresh` whether any new event came. */
  async read(response) {
    let fresh = false;
    try {
      for await (const { event, id } of readEvents(response)) {
        this.acc.feed(event, id);
        fresh = true;
        if (this.firstTokenAt === null && event.type === "content_block_delta") this.firstTokenAt = Date.now();
        if (!this.stopped) this.onUpdate(this);
        if (event.type === "error") return { end: "error", fresh };
      }
    } catch (error) {
      if (error.name === "AbortError" || this.stopped) throw error;
      return { end: "broken", fresh }; // a transport error mid-body: resume
    }
    return { end: this.acc.state.done ? "complete" : "ended", fresh };
  }

  async retrying(send) {
    for (let attempt = 0; ; attempt++) {
      let failure;
      this.inFlight = true; // meanwhile Stop waits for the stream id, to cancel what the server started
      try {
        return await send();
      } catch (error) {
        failure = error;
      } finally {
        this.inFlight = false;
      }
      if (this.stopped || !(failure instanceof ApiError) || !failure.retryable || attempt >= MAX_RETRIES) throw failure;
      const seconds = Math.min(MAX_DELAY, failure.retryAfter ?? backoff(attempt));
      await this.wait(seconds, (left) => ({ kind: "retrying", seconds: left, error: failure }));
    }
  }

  /** Sleep, telling the page the seconds left each second; Stop ends the wait, the network's return cuts it short. */
  wait(seconds, status) {
    const signal = this.controller.signal;
    return new Promise((resolve, reject) => {
      const until = Date.now() + seconds * 1000;
      let timer = null;
      const tick = () => {
        const left = (until - Date.now()) / 1000;
        if (left <= 0) return done();
        this.onStatus(status(Math.ceil(left)));
        timer = setTimeout(tick, Math.min(1000, left * 1000 - (Math.ceil(left) - 1) * 1000 || 1000));
      };
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", abort);
        window.removeEventListener("online", done);
        resolve();
      };
      const abort = () => {
        clearTimeout(timer);
        window.removeEventListener("online", done);
        reject(new DOMException("stopped", "AbortError"));
      };
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      window.addEventListener("online", done, { once: true }); // the network is back: go now
      tick();
    });
  }
}

function backoff(attempt) {
  return Math.min(8, 0.5 * 2 ** attempt) * (0.75 + Math.random() * 0.25);
}

function inBand(error) {
  return new ApiError(200, error?.type ?? "api_error", error?.message ?? "The stream reported an error.");
}

function lost() {
  return new ApiError(0, "connection_error", "The connection was lost before the answer was complete.");
}

function expired(error) {
  return new ApiError(404, "not_found_error", `The answer can no longer be resumed: ${error.message}`);
}
