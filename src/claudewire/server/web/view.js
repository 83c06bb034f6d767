// Messages on the screen. An assistant message is redrawn from its stored entry (snapshot,
// status, error, timings); each content block keeps its element and is redrawn only when
// its own content changed, so a growing answer never rebuilds what is already shown.

import { button, renderMarkdown } from "./render.js";

const STATUS_TEXT = {
  stopped: "stopped by you",
  interrupted: "interrupted",
  failed: "failed",
};

export function userView(entry, { onEdit }) {
  const article = element("article", "message user", { testid: "message-user" });
  const text = element("div", "user-text");
  text.textContent = entry.text;
  const actions = element("div", "actions");
  if (onEdit) actions.append(button("Edit", "link", () => onEdit(article, entry), "edit"));
  article.append(text, actions);
  return article;
}

/** An editor in place of a user message: Save & send, or Cancel (Esc). */
export function editView(article, entry, { onSubmit, onCancel }) {
  const form = element("form", "edit");
  const area = element("textarea", "edit-text", { testid: "edit-prompt" });
  area.value = entry.text;
  area.rows = Math.min(12, entry.text.split("\n").length + 1);
  area.setAttribute("aria-label", "Edit your message");
  const send = button("Save & send", "primary", () => form.requestSubmit(), "edit-send");
  const cancel = button("Cancel", "", onCancel);
  form.append(area, element("div", "actions", {}, [send, cancel]));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (area.value.trim()) onSubmit(area.value);
  });
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      event.stopPropagation();
      onCancel();
    }
  });
  article.replaceChildren(form);
  area.focus();
}

export class AssistantView {
  constructor({ onRegenerate }) {
    this.article = element("article", "message assistant", { testid: "message-assistant" });
    this.blocks = element("div", "blocks");
    this.status = element("div", "status", { role: "status" });
    this.error = element("div", "error", { testid: "error", role: "alert" });
    this.meta = element("footer", "meta");
    this.stopReason = element("span", "stop-reason", { testid: "stop-reason" });
    this.hint = element("span", "hint", { testid: "hint" });
    this.usage = element("span", "usage", { testid: "usage" });
    this.timing = element("span", "timing", { testid: "timing" });
    this.model = element("span", "answered-by", { testid: "answered-by" });
    this.regenerate = button("Regenerate", "link", onRegenerate, "regenerate");
    this.meta.append(this.stopReason, this.usage, this.timing, this.model, this.regenerate, this.hint);
    this.article.append(this.blocks, this.status, this.error, this.meta);
    this.shown = [];
  }

  /** Redraw from the stored entry; `last` says whether Regenerate applies to it. */
  update(entry, { last = false, statusLine = null } = {}) {
    const { message, status } = entry;
    const streaming = status === "streaming";
    this.article.dataset.status = status;
    this.article.setAttribute("aria-busy", String(streaming));
    const content = message?.content ?? [];
    const partial = entry.progress?.state?.partialJson ?? {};
    content.forEach((block, index) => this.block(index, block, partial[index], streaming));
    if (streaming && content.length === 0) this.placeholder();
    this.status.textContent = statusLine ?? "";
    this.status.hidden = !statusLine;
    this.error.textContent = entry.error ? errorText(entry.error, status, Boolean(content.length)) : "";
    this.error.hidden = !entry.error;
    const reason = STATUS_TEXT[status] ?? message?.stop_reason ?? "";
    this.stopReason.textContent = streaming ? "" : reason;
    this.stopReason.dataset.value = streaming ? "" : reason;
    this.hint.textContent = message?.stop_reason === "max_tokens" && status === "done"
      ? "The answer reached max_tokens and was cut short: raise max_tokens in the settings, or ask it to continue."
      : "";
    this.hint.hidden = !this.hint.textContent;
    const usage = message?.usage;
    const final = status === "done"; // only a finished answer has the server's output count
    this.usage.textContent = !usage || streaming ? "" : final ? `${promptText(usage)} · ${usage.output_tokens ?? 0} out tokens` : `${promptText(usage)} tokens`;
    this.timing.textContent = streaming ? "" : timingText(entry.timing, final ? usage : null);
    const answeredBy = entry.backend && message?.model && entry.backend !== message.model ? entry.backend : "";
    this.model.textContent = streaming || !answeredBy ? "" : `answered by ${answeredBy}`;
    this.regenerate.hidden = streaming || !last;
    this.meta.hidden = streaming;
  }

  placeholder() {
    if (this.shown.length === 0 && !this.blocks.querySelector(".typing")) {
      this.blocks.append(element("div", "typing", { "aria-hidden": "true" }, [element("span"), element("span"), element("span")]));
    }
  }

  block(index, block, partialJson, streaming) {
    this.blocks.querySelector(".typing")?.remove();
    let shown = this.shown[index];
    const key = block.type === "text" ? block.text : block.type === "thinking" ? block.thinking + (block.signature ? "✓" : "")
      : block.type === "tool_use" || block.type === "server_tool_use" ? (partialJson ?? JSON.stringify(block.input)) : block.type;
    if (shown && shown.key === key && shown.streaming === streaming) return;
    const fresh = !shown;
    if (fresh) shown = this.shown[index] = { element: blockElement(block) };
    shown.key = key;
    shown.streaming = streaming;
    fillBlock(shown.element, block, partialJson, streaming);
    if (fresh) this.blocks.append(shown.element);
  }
}

function blockElement(block) {
  switch (block.type) {
    case "text":
      return element("div", "text markdown");
    case "thinking":
    case "redacted_thinking": {
      const details = element("details", "thinking", { testid: "thinking" });
      details.append(element("summary"), element("div", "thinking-text"));
      return details;
    }
    case "tool_use":
    case "server_tool_use": {
      const tool = element("div", "tool-use", { testid: "tool-use" });
      tool.append(element("div", "tool-name"), element("pre", "tool-input"));
      return tool;
    }
    default:
      return element("div", "unknown-block");
  }
}

function fillBlock(target, block, partialJson, streaming) {
  switch (block.type) {
    case "text":
      target.replaceChildren(renderMarkdown(block.text ?? ""));
      break;
    case "thinking":
      target.querySelector("summary").textContent = streaming && !block.signature ? "Thinking…" : "Thinking";
      target.querySelector(".thinking-text").textContent = block.thinking ?? "";
      break;
    case "redacted_thinking":
      target.querySelector("summary").textContent = "Thinking (redacted)";
      break;
    case "tool_use":
    case "server_tool_use": {
      target.querySelector(".tool-name").textContent = `Tool call: ${block.name}`;
      const done = partialJson === undefined;
      target.querySelector(".tool-input").textContent = done ? JSON.stringify(block.input ?? {}, null, 2) : partialJson;
      target.dataset.complete = String(done);
      break;
    }
    default:
      target.textContent = `[${block.type} block]`;
  }
}

function errorText(error, status, hasText) {
  const kept = hasText ? " The partial answer is kept above." : "";
  if (status === "interrupted") return `The answer was interrupted: ${describe(error)}${kept}`;
  return describe(error);
}

/** An API error in words a person understands, with what to do about it. */
export function describe(error) {
  if (error.status === 0 && error.type === "connection_error") {
    return `${error.message} Is the claudewire server still running, and is the network up?`;
  }
  if (error.status === 401 || error.type === "authentication_error") {
    return `The server did not accept the API key (${error.message}). Enter the key the server was started with in the settings.`;
  }
  if (error.status === 404 && error.type === "not_found_error") return sentence(error.message);
  const names = { rate_limit_error: "Rate limited", overloaded_error: "The server is overloaded", invalid_request_error: "The request was refused" };
  const name = names[error.type] ?? "The server reported an error";
  const status = error.status && error.status !== 200 ? ` (${error.status})` : "";
  return `${name}${status}: ${sentence(error.message)}`;
}

function sentence(text) {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

/** Every prompt token, and how many of them a prompt cache held ("34 in (24 cached)"). */
function promptText(usage) {
  const cached = usage.cache_read_input_tokens ?? 0;
  const total = (usage.input_tokens ?? 0) + cached + (usage.cache_creation_input_tokens ?? 0);
  return cached ? `${total} in (${cached} cached)` : `${total} in`;
}

function timingText(timing, usage) {
  if (!timing?.firstTokenAt) return "";
  const parts = [`first token ${formatMs(timing.firstTokenAt - timing.startedAt)}`];
  const seconds = ((timing.endedAt ?? timing.firstTokenAt) - timing.firstTokenAt) / 1000;
  if (usage?.output_tokens && seconds > 0) parts.push(`${(usage.output_tokens / seconds).toFixed(1)} tokens/s`);
  return parts.join(" · ");
}

function formatMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function element(tag, className = "", attributes = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "testid") node.dataset.testid = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}
