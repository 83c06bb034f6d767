// What the page keeps in the browser: conversations and settings in localStorage (they
// outlive a reload and a restart), the API key in sessionStorage only (it goes with the tab,
// and it is never put in a URL, a log or the conversation data).

const PREFIX = "claudewire.";
const INDEX = PREFIX + "conversations";
const CURRENT = PREFIX + "current";
const SETTINGS = PREFIX + "settings";
const KEY = PREFIX + "api-key";

export const DEFAULT_SETTINGS = { model: "", system: "", maxTokens: 1024, temperature: "", thinking: 0, tools: "" };

function read(storage, name, fallback) {
  try {
    const raw = storage.getItem(name);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(storage, name, value) {
  try {
    storage.setItem(name, JSON.stringify(value));
    return true;
  } catch (error) {
    console.warn(`claudewire: could not store ${name}: ${error.message}`);
    return false;
  }
}

export const store = {
  /** [{id, title, updatedAt}], newest first. */
  list() {
    return read(localStorage, INDEX, []).sort((a, b) => b.updatedAt - a.updatedAt);
  },

  load(id) {
    return read(localStorage, PREFIX + "conversation." + id, null);
  },

  save(conversation) {
    conversation.updatedAt = Date.now();
    write(localStorage, PREFIX + "conversation." + conversation.id, conversation);
    const index = read(localStorage, INDEX, []).filter((entry) => entry.id !== conversation.id);
    index.push({ id: conversation.id, title: conversation.title, updatedAt: conversation.updatedAt });
    write(localStorage, INDEX, index);
  },

  remove(id) {
    localStorage.removeItem(PREFIX + "conversation." + id);
    write(localStorage, INDEX, read(localStorage, INDEX, []).filter((entry) => entry.id !== id));
    if (this.current() === id) localStorage.removeItem(CURRENT);
  },

  current() {
    return localStorage.getItem(CURRENT);
  },

  setCurrent(id) {
    if (id) localStorage.setItem(CURRENT, id);
    else localStorage.removeItem(CURRENT);
  },

  settings() {
    return { ...DEFAULT_SETTINGS, ...read(localStorage, SETTINGS, {}) };
  },

  saveSettings(settings) {
    write(localStorage, SETTINGS, settings);
  },

  apiKey() {
    return sessionStorage.getItem(KEY) ?? "";
  },

  setApiKey(key) {
    if (key) sessionStorage.setItem(KEY, key);
    else sessionStorage.removeItem(KEY);
  },
};

export function newConversation() {
  return { id: randomId(), title: "New chat", createdAt: Date.now(), updatedAt: Date.now(), messages: [] };
}

function randomId() {
  // crypto.randomUUID() exists only in secure contexts; a server on a LAN address is not one
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
