// Model output to the screen: Markdown by marked, then DOMPurify with an allow-list, so
// nothing in an answer can run script or load anything remote (the page's CSP says the same
// a second time). Raw HTML in the Markdown is shown as text; images are shown as their link.

import { Marked } from "./vendor/marked.esm.js";
import DOMPurify from "./vendor/purify.es.mjs";

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const markdown = new Marked({
  gfm: true,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    image: ({ href, text }) => `<a href="${escapeHtml(href ?? "")}">${escapeHtml(text || href || "image")}</a>`,
  },
});

const PURIFY = {
  ALLOWED_TAGS: ["p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "span"],
  ALLOWED_ATTR: ["href", "title", "start", "align", "class"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
};

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

/** Markdown text to a sanitized fragment, with a copy button on every code block. */
export function renderMarkdown(text) {
  const fragment = DOMPurify.sanitize(markdown.parse(text), { ...PURIFY, RETURN_DOM_FRAGMENT: true });
  for (const pre of fragment.querySelectorAll("pre")) {
    const wrap = document.createElement("div");
    wrap.className = "code";
    pre.replaceWith(wrap);
    const copy = button("Copy", "copy", () => copyText(pre.textContent, copy));
    copy.setAttribute("aria-label", "Copy code");
    wrap.append(copy, pre);
  }
  return fragment;
}

export function button(label, className, onClick, testid = null) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  if (testid) element.dataset.testid = testid;
  element.addEventListener("click", onClick);
  return element;
}

async function copyText(text, source) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = Object.assign(document.createElement("textarea"), { value: text });
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  source.textContent = "Copied";
  setTimeout(() => (source.textContent = "Copy"), 1500);
}
