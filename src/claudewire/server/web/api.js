// The server's public API, and nothing else: /v1/models, /v1/messages (asking for a resumable
// stream), /v1/messages/streams/{id} to resume and .../cancel to stop. Errors come back as
// ApiError in the API's own terms (status, error.type, message, retry delay).

import { SSEDecoder } from "./sse.js";

const VERSION = "2023-06-01";
const RETRYABLE_STATUSES = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

export class ApiError extends Error {
  constructor(status, type, message, { retryAfter = null, requestId = null } = {}) {
    super(message);
    this.status = status; // 0: no HTTP answer at all (server unreachable, connection lost)
    this.type = type;
    this.retryAfter = retryAfter; // seconds, from retry-after-ms / retry-after
    this.requestId = requestId;
  }

  get retryable() {
    return this.status === 0 || RETRYABLE_STATUSES.has(this.status) || this.type === "overloaded_error";
  }
}

export class Api {
  /** `apiKey` is a function, so a key typed into the settings applies to the next request. */
  constructor(apiKey, base = "") {
    this.apiKey = apiKey;
    this.base = base;
  }

  headers(extra = {}) {
    const headers = { "anthropic-version": VERSION, ...extra };
    const key = this.apiKey();
    if (key) headers["x-api-key"] = key;
    return headers;
  }

  async request(path, init) {
    let response;
    try {
      response = await fetch(this.base + path, { cache: "no-store", ...init });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "connection_error", "The server cannot be reached.");
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  /** Every model the server offers, following the list's pages. */
  async models() {
    const models = [];
    let after = null;
    for (;;) {
      const query = new URLSearchParams({ limit: "1000", ...(after ? { after_id: after } : {}) });
      const page = await (await this.request(`/v1/models?${query}`, { headers: this.headers() })).json();
      models.push(...page.data);
      if (!page.has_more || !page.last_id) return models;
      after = page.last_id;
    }
  }

  /** POST /v1/messages, streamed and resumable; the stream id is null if the server offers no resume,
   *  and `backend` null unless the server is claudewire. */
  async start(body, signal) {
    const response = await this.request("/v1/messages", {
      method: "POST",
      headers: this.headers({ "content-type": "application/json", "x-claudewire-resumable": "true" }),
      body: JSON.stringify({ ...body, stream: true }),
      signal,
    });
    // a claudewire server names the model that really answered (any listed id may be served by its backend)
    return { response, streamId: response.headers.get("x-claudewire-stream-id"), backend: response.headers.get("x-claudewire-backend") };
  }

  /** The events of stream `id` after event `after` (all of them when null), then the live ones;
   *  204 when the stream has finished and nothing comes after `after`. */
  resume(id, after, signal) {
    const extra = after === null || after === undefined ? {} : { "last-event-id": String(after) };
    return this.request(`/v1/messages/streams/${encodeURIComponent(id)}`, { headers: this.headers(extra), signal });
  }

  /** Stop the generation on the server (the answer so far stays with the page). */
  async cancel(id) {
    await this.request(`/v1/messages/streams/${encodeURIComponent(id)}/cancel`, { method: "POST", headers: this.headers() });
  }
}

/** The body's events as {event, id}: bytes → text → SSE events → JSON, one way. */
export async function* readEvents(response) {
  if (!response.body) return; // 204: a finished stream with nothing after the given id
  const reader = response.body.getReader();
  const text = new TextDecoder();
  const sse = new SSEDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const raw of sse.feed(text.decode(value, { stream: true }))) yield { event: JSON.parse(raw.data), id: raw.id };
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

export async function errorFrom(response) {
  let type = "api_error";
  let message = `The server answered ${response.status} ${response.statusText}.`;
  let requestId = response.headers.get("request-id");
  try {
    const body = await response.json();
    if (body?.error) ({ type, message } = body.error);
    requestId = body?.request_id ?? requestId;
  } catch {
    // not the API's JSON: keep the status line
  }
  return new ApiError(response.status, type, message, { retryAfter: retryAfter(response.headers), requestId });
}

function retryAfter(headers) {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const raw = headers.get("retry-after");
  if (raw === null) return null;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}
