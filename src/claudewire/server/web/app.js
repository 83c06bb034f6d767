// The chat page: conversations (stored in the browser), settings, and the one running turn.
// Data flows one way: server events → Turn (snapshot + last event id) → stored entry → view.

import { Api } from "./api.js";
import { newConversation, store } from "./store.js";
import { Turn } from "./turn.js";
import { AssistantView, describe, editView, userView } from "./view.js";

const $ = (id) => document.getElementById(id);
const api = new Api(() => store.apiKey());
const ui = {
  messages: $("messages"), empty: $("empty"), prompt: $("prompt"), send: $("send"), stop: $("stop"),
  composer: $("composer"), title: $("title"), banner: $("banner"), list: $("conversations"), settings: $("settings"),
  model: $("model"), system: $("system"), maxTokens: $("max-tokens"), temperature: $("temperature"),
  thinking: $("thinking"), tools: $("tools"), apiKey: $("api-key"),
};
const SAVE_EVERY_MS = 200;

let settings = store.settings();
let conversation = store.load(store.current()) ?? newConversation();
let running = null; // {turn, conversation, entry, statusLine}
const views = new WeakMap(); // assistant entry → its AssistantView (current conversation only)

// --- settings -----------------------------------------------------------------------------

function bindSettings() {
  ui.system.value = settings.system;
  ui.maxTokens.value = settings.maxTokens;
  ui.temperature.value = settings.temperature;
  ui.thinking.value = settings.thinking || "";
  ui.tools.value = settings.tools;
  ui.apiKey.value = store.apiKey();
  const fields = { system: ui.system, maxTokens: ui.maxTokens, temperature: ui.temperature, thinking: ui.thinking, tools: ui.tools, model: ui.model };
  for (const [name, field] of Object.entries(fields)) {
    for (const type of ["input", "change"]) {
      field.addEventListener(type, () => {
        settings[name] = field.value;
        store.saveSettings(settings);
      });
    }
  }
  ui.apiKey.addEventListener("change", () => {
    store.setApiKey(ui.apiKey.value.trim());
    loadModels();
  });
  ui.settings.addEventListener("submit", (event) => event.preventDefault());
  $("toggle-settings").addEventListener("click", () => toggle(ui.settings, $("toggle-settings")));
  $("toggle-sidebar").addEventListener("click", () => document.body.classList.toggle("show-sidebar", toggle(null, $("toggle-sidebar"))));
  // on a phone the conversation list lies over the chat: a tap beside it or Esc puts it away
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#sidebar, #toggle-sidebar")) closeSidebar();
  });
}

function closeSidebar() {
  document.body.classList.remove("show-sidebar");
  $("toggle-sidebar").setAttribute("aria-expanded", "false");
}

function toggle(panel, control) {
  const open = control.getAttribute("aria-expanded") !== "true";
  control.setAttribute("aria-expanded", String(open));
  if (panel) panel.hidden = !open;
  return open;
}

/** Fill the model list; at start-up (`atStart`) a server that wants a key gets the key field focused. */
async function loadModels(atStart = false) {
  try {
    const models = await api.models();
    ui.model.replaceChildren(...models.map((m) => new Option(m.display_name && m.display_name !== m.id ? `${m.id} — ${m.display_name}` : m.id, m.id)));
    const wanted = models.find((m) => m.id === settings.model) ?? models[0];
    if (wanted) ui.model.value = settings.model = wanted.id;
    showBanner(null);
  } catch (error) {
    showBanner(describe(error));
    if (error.status === 401) openSettings(atStart ? ui.apiKey : null);
  }
}

function openSettings(focus) {
  ui.settings.hidden = false;
  $("toggle-settings").setAttribute("aria-expanded", "true");
  focus?.focus();
}

function showBanner(text) {
  ui.banner.textContent = text ?? "";
  ui.banner.hidden = !text;
}

/** The request for the next answer: the history so far, in the API's shape, and the settings. */
function requestBody(entries) {
  const messages = [];
  let pendingTools = [];
  for (const entry of entries) {
    if (entry.role === "user") {
      const results = pendingTools.map((id) => ({ type: "tool_result", tool_use_id: id, is_error: true, content: "This chat page cannot run tools." }));
      messages.push({ role: "user", content: results.length ? [...results, { type: "text", text: entry.text }] : entry.text });
      pendingTools = [];
    } else {
      const content = historyBlocks(entry);
      pendingTools = content.filter((b) => b.type === "tool_use").map((b) => b.id);
      if (content.length) messages.push({ role: "assistant", content });
    }
  }
  const body = { model: ui.model.value || settings.model, max_tokens: Number(settings.maxTokens) || 1024, messages };
  if (settings.system.trim()) body.system = settings.system;
  if (settings.temperature !== "" && settings.temperature !== null) body.temperature = Number(settings.temperature);
  if (Number(settings.thinking) > 0) body.thinking = { type: "enabled", budget_tokens: Number(settings.thinking) };
  if (settings.tools.trim()) body.tools = JSON.parse(settings.tools); // checked before sending
  return body;
}

/** What of an answer goes back as history: finished blocks only (a stopped answer keeps its text). */
function historyBlocks(entry) {
  const complete = entry.status === "done";
  const blocks = [];
  for (const block of entry.message?.content ?? []) {
    if (block.type === "text" && block.text.trim()) blocks.push({ type: "text", text: block.text });
    else if (complete && block.type === "thinking" && block.signature) blocks.push({ type: "thinking", thinking: block.thinking, signature: block.signature });
    else if (complete && block.type === "redacted_thinking") blocks.push({ type: "redacted_thinking", data: block.data });
    else if (complete && block.type === "tool_use") blocks.push({ type: "tool_use", id: block.id, name: block.name, input: block.input ?? {} });
  }
  return blocks;
}

// --- conversations ------------------------------------------------------------------------

function renderList() {
  const items = store.list().map(({ id, title }) => {
    const li = document.createElement("li");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "conversation";
    open.textContent = title;
    if (id === conversation.id) open.setAttribute("aria-current", "true");
    open.addEventListener("click", () => switchTo(store.load(id) ?? newConversation()));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "icon delete";
    remove.textContent = "×";
    remove.dataset.testid = "delete-chat";
    remove.setAttribute("aria-label", `Delete conversation: ${title}`);
    remove.addEventListener("click", () => deleteConversation(id));
    li.append(open, remove);
    return li;
  });
  ui.list.replaceChildren(...items);
}

function switchTo(next) {
  conversation = running?.conversation.id === next.id ? running.conversation : next;
  store.setCurrent(store.load(conversation.id) ? conversation.id : null);
  closeSidebar();
  renderConversation();
  renderList();
  ui.prompt.focus();
}

function deleteConversation(id) {
  if (running?.conversation.id === id) running.turn.stop();
  store.remove(id);
  if (conversation.id === id) switchTo(newConversation());
  else renderList();
}

function renderConversation() {
  ui.title.textContent = conversation.messages.length ? conversation.title : "claudewire";
  const nodes = conversation.messages.map((entry, index) => {
    if (entry.role === "user") return userView(entry, { onEdit: (article) => startEdit(article, index) });
    const view = new AssistantView({ onRegenerate: regenerate });
    views.set(entry, view);
    const statusLine = running?.entry === entry ? running.statusLine : null;
    view.update(entry, { last: index === conversation.messages.length - 1, statusLine });
    return view.article;
  });
  ui.empty.hidden = nodes.length > 0;
  ui.messages.replaceChildren(ui.empty, ...nodes);
  ui.messages.scrollTop = ui.messages.scrollHeight;
  setComposer();
}

function save(target = conversation) {
  store.save(target);
  if (store.current() !== target.id && target === conversation) store.setCurrent(target.id);
  renderList();
}

// --- turns --------------------------------------------------------------------------------

function send(text) {
  if (running || !text.trim()) return;
  if (!checkTools()) return;
  if (conversation.messages.length === 0) conversation.title = text.trim().split("\n")[0].slice(0, 60);
  conversation.messages.push({ role: "user", text });
  ui.prompt.value = "";
  resizePrompt();
  startTurn();
}

function checkTools() {
  if (!settings.tools.trim()) return true;
  try {
    if (Array.isArray(JSON.parse(settings.tools))) return true;
  } catch {
    // fall through
  }
  showBanner("The tools setting is not a JSON array of tool definitions.");
  openSettings(ui.tools);
  return false;
}

function regenerate() {
  if (running) return;
  const last = conversation.messages.at(-1);
  if (last?.role === "assistant") conversation.messages.pop();
  startTurn();
}

function startEdit(article, index) {
  if (running) return;
  const entry = conversation.messages[index];
  editView(article, entry, {
    onSubmit: (text) => {
      if (running) return;
      conversation.messages.splice(index);
      conversation.messages.push({ role: "user", text });
      startTurn();
    },
    onCancel: () => renderConversation(),
  });
}

/** Ask for the next answer, or (with `entry`) resume one that a reload interrupted. */
async function startTurn(entry = null) {
  const target = conversation;
  const body = entry ? null : requestBody(target.messages);
  if (!entry) {
    entry = { role: "assistant", status: "streaming", message: null, error: null, progress: null, timing: { startedAt: Date.now() } };
    target.messages.push(entry);
  }
  const run = { turn: null, conversation: target, entry, statusLine: null };
  let frame = 0;
  let savedAt = 0;
  const draw = () => {
    frame = 0;
    const view = views.get(entry); // a fresh one if the conversation was left and opened again
    if (conversation === target && view) {
      view.update(entry, { last: true, statusLine: run.statusLine });
      followBottom();
    }
    if (Date.now() - savedAt >= SAVE_EVERY_MS) {
      savedAt = Date.now();
      store.save(target);
    }
  };
  const schedule = () => (frame ||= requestAnimationFrame(draw));
  run.turn = new Turn(api, body, {
    progress: entry.progress,
    onUpdate: (t) => {
      const firstId = t.streamId && !entry.progress?.streamId;
      entry.message = t.message;
      entry.progress = t.progress; // the snapshot and its last event id, stored together
      entry.timing = { startedAt: t.startedAt, firstTokenAt: t.firstTokenAt };
      entry.backend = t.backend;
      run.statusLine = null;
      if (firstId) store.save(target); // from now on a reload resumes this answer
      schedule();
    },
    onStatus: (status) => {
      run.statusLine = statusText(status);
      schedule();
    },
  });
  running = run;
  save(target);
  renderConversation();
  const turn = run.turn;
  const result = await turn.run();
  cancelAnimationFrame(frame);
  entry.message = turn.message;
  entry.status = result.status;
  entry.error = result.error ? { status: result.error.status, type: result.error.type, message: result.error.message } : null;
  entry.progress = null;
  entry.timing = { startedAt: turn.startedAt, firstTokenAt: turn.firstTokenAt, endedAt: turn.endedAt };
  running = null;
  store.save(target);
  if (conversation === target) {
    views.get(entry)?.update(entry, { last: true }); // in place: a reader scrolled up stays where they are
    followBottom();
    if (result.error && result.error.status === 401) openSettings(ui.apiKey);
  }
  setComposer();
}

function statusText({ kind, seconds, error }) {
  if (kind === "retrying") return `${describe(error)} Retrying in ${seconds} s…`;
  if (kind === "reconnecting") return seconds ? `Connection lost. Reconnecting in ${seconds} s…` : "Resuming the answer…";
  return null;
}

/** After a reload: carry on the answer that was streaming, from the last event the page kept. */
function resumePending() {
  const entry = conversation.messages.at(-1);
  if (entry?.role !== "assistant" || entry.status !== "streaming") return;
  if (entry.progress?.streamId) {
    startTurn(entry);
    return;
  }
  entry.status = entry.message ? "interrupted" : "failed";
  entry.error = { status: 0, type: "connection_error", message: "The page was closed before the server had started the answer." };
  save();
  renderConversation();
}

// --- scrolling: follow the answer while the reader is at the bottom, never pull them back ---------

let atBottom = true;

function followBottom() {
  if (atBottom) ui.messages.scrollTop = ui.messages.scrollHeight;
}

ui.messages.addEventListener("scroll", () => {
  atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 48;
});
new ResizeObserver(followBottom).observe(ui.messages); // a phone turned, a keyboard opened

// --- composer and keys ----------------------------------------------------------------------

function setComposer() {
  const busy = Boolean(running);
  ui.send.hidden = busy;
  ui.stop.hidden = !busy;
  ui.send.disabled = busy;
  for (const edit of ui.messages.querySelectorAll("[data-testid=edit]")) edit.disabled = busy;
}

function resizePrompt() {
  ui.prompt.style.height = "auto";
  ui.prompt.style.height = `${Math.min(ui.prompt.scrollHeight, 240)}px`;
}

function bindComposer() {
  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    send(ui.prompt.value);
  });
  ui.prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(ui.prompt.value);
    }
  });
  ui.prompt.addEventListener("input", resizePrompt);
  ui.stop.addEventListener("click", () => running?.turn.stop());
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (running) {
      event.preventDefault();
      running.turn.stop();
    } else closeSidebar();
  });
  $("new-chat").addEventListener("click", () => switchTo(newConversation()));
  window.addEventListener("offline", () => showBanner("You are offline. A streaming answer carries on when the network is back."));
  window.addEventListener("online", () => showBanner(null));
  // leaving or reloading mid-answer: store the exact snapshot and its last event id
  window.addEventListener("pagehide", () => running && store.save(running.conversation));
}

bindSettings();
bindComposer();
renderList();
renderConversation();
resumePending();
loadModels(true);
ui.prompt.focus();
