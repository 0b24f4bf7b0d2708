// newsdesk chat page: plain DOM, no build step, no external assets.
// Text from the server is always inserted as text nodes, never as HTML.
"use strict";

const SESSION_KEY = "newsdesk.session";
const log = document.getElementById("log");
const form = document.getElementById("ask-form");
const input = document.getElementById("question");
const send = document.getElementById("send");
const resetButton = document.getElementById("reset");
const indexInfo = document.getElementById("index-info");

let sessionId = sessionStorage.getItem(SESSION_KEY);
let messageCount = 0;

function setSession(id) {
  sessionId = id || null;
  if (sessionId) sessionStorage.setItem(SESSION_KEY, sessionId);
  else sessionStorage.removeItem(SESSION_KEY);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function safeUrl(url) {
  // Only http(s) links: a javascript: URL in an article must not become clickable.
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

function addMessage(kind, text) {
  const hint = log.querySelector(".hint");
  if (hint) hint.remove();
  const node = el("article", { class: `msg ${kind}` });
  if (text) node.append(el("p", { class: "answer-text", text }));
  log.append(node);
  scrollToEnd();
  return node;
}

function passageWithQuote(citation) {
  // The quote is a sentence of the passage; highlight it where it sits.
  const passage = citation.passage || "";
  const quote = citation.quote || "";
  const block = el("blockquote", { class: "passage" });
  const at = quote ? passage.indexOf(quote) : -1;
  if (at >= 0) {
    block.append(passage.slice(0, at), el("mark", { text: quote }), passage.slice(at + quote.length));
  } else {
    block.append(el("mark", { text: quote }));
    if (passage) block.append(" … ", passage);
  }
  return block;
}

function alsoReported(citation) {
  // "also reported by Reuters, AP and 3 more": the other articles of the same story.
  const others = citation.also_in || [];
  if (!others.length) return null;
  const sources = others.map((other) => other.source || "an unnamed outlet");
  const named = [...new Set(sources)].slice(0, 2);
  const more = sources.filter((source) => !named.includes(source)).length;
  return more
    ? `also reported by ${named.join(", ")} and ${more} more`
    : `also reported by ${named.join(" and ")}`;
}

function sourceCard(citation, id) {
  // The link opens the article at the quoted sentence (a text fragment) when there is one.
  const link = citation.deep_url || citation.url;
  const href = link ? safeUrl(link) : null;
  const title = citation.title || citation.article_id;
  const titleNode = href
    ? el("a", { href, target: "_blank", rel: "noopener noreferrer", text: title })
    : document.createTextNode(title);
  // Whose words the quote is, when it is an attributed statement (a text node like the rest).
  const speaker = (citation.speaker || "").trim();
  const meta = [
    citation.source,
    citation.date,
    speaker ? `quoting ${speaker}` : null,
    alsoReported(citation),
  ]
    .filter(Boolean)
    .join(" · ");
  const card = el(
    "section",
    { class: "source", id, hidden: "" },
    el("div", { class: "source-title" }, `[${citation.n}] `, titleNode),
    meta ? el("div", { class: "source-meta muted", text: meta }) : null,
    passageWithQuote(citation),
  );
  card.dataset.n = String(citation.n);
  return card;
}

function answerText(answer, cards) {
  // Turn each [n] of the answer into a button that shows/hides source n.
  const paragraph = el("p", { class: "answer-text" });
  const byNumber = new Map(answer.citations.map((c) => [String(c.n), c]));
  const parts = answer.answer.split(/(\[\d+\])/);
  for (const part of parts) {
    const match = /^\[(\d+)\]$/.exec(part);
    const card = match && byNumber.has(match[1]) ? cards.get(match[1]) : null;
    if (!card) {
      paragraph.append(part);
      continue;
    }
    paragraph.append(citeButton(part, card));
  }
  return paragraph;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function humanDate(iso) {
  // "2024-03-04" → "4 Mar 2024", read from the string itself (no time zone can shift the day).
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  return match ? `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}` : iso || "";
}

function citeButton(label, card) {
  const button = el("button", {
    type: "button",
    class: "cite",
    "aria-expanded": "false",
    "aria-controls": card.id,
    title: "Show the source",
    text: label,
  });
  button.addEventListener("click", () => toggleSource(button, card));
  return button;
}

function timelineList(answer, cards) {
  // A timeline is drawn as a vertical list, earliest first: each day's date and outlet above
  // the sentence that says what happened, its [n] opening the source like any citation.
  const list = el("ol", { class: "timeline", "aria-label": "Timeline" });
  for (const event of answer.timeline.events) {
    const card = cards.get(String(event.n));
    const head = el(
      "div",
      { class: "event-head" },
      el("time", { class: "event-date", datetime: event.date, text: humanDate(event.date) }),
      event.source ? el("span", { class: "event-source", text: event.source }) : null,
    );
    const body = el("p", { class: "event-text" }, event.sentence, " ");
    if (card) body.append(citeButton(`[${event.n}]`, card));
    list.append(el("li", { class: "event" }, head, body));
  }
  const more = answer.timeline.more;
  const follows = more === 1 ? "1 more date follows." : `${more} more dates follow.`;
  const note = more ? el("p", { class: "timeline-more muted", text: follows }) : null;
  return el("div", {}, list, note);
}

function toggleSource(button, card) {
  const show = card.hidden;
  card.hidden = !show;
  const message = button.closest(".msg");
  for (const other of message.querySelectorAll(`button.cite[aria-controls="${card.id}"]`)) {
    other.setAttribute("aria-expanded", String(show));
  }
}

function renderAnswer(node, answer) {
  node.className = answer.abstained ? "msg bot abstained" : "msg bot answer";
  node.replaceChildren();
  const prefix = `m${++messageCount}`;
  const cards = new Map();
  const sources = el("div", { class: "sources" });
  for (const citation of answer.citations) {
    const card = sourceCard(citation, `${prefix}-src-${citation.n}`);
    cards.set(String(citation.n), card);
    sources.append(card);
  }
  const timeline = answer.timeline && answer.timeline.events.length ? answer.timeline : null;
  node.append(timeline ? timelineList(answer, cards) : answerText(answer, cards));
  if (answer.rewritten_query && answer.rewritten_query !== answer.query) {
    node.append(el("p", { class: "rewritten muted", text: `Searched for: ${answer.rewritten_query}` }));
  }
  if (cards.size) node.append(sources);
  const lastPage = timeline !== null && !timeline.more; // a timeline with nothing to follow
  if (!answer.abstained && !answer.coverage && !lastPage && answer.session_id) {
    const more = el("button", { type: "button", text: "More from the articles" });
    more.addEventListener("click", () => {
      more.remove();
      request(`sessions/${encodeURIComponent(answer.session_id)}/more`, null);
    });
    node.append(el("div", { class: "actions" }, more));
  }
  scrollToEnd();
}

function renderError(node, text) {
  node.className = "msg bot error";
  node.replaceChildren(el("p", { class: "answer-text", text }));
  scrollToEnd();
}

function problemText(status, body) {
  if (body && typeof body.detail === "string") return body.detail;
  return `The server answered ${status}.`;
}

async function request(path, payload) {
  const pending = addMessage("bot pending", "Looking through the articles…");
  setBusy(true);
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: payload === null ? undefined : JSON.stringify(payload),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      renderError(pending, problemText(response.status, body));
      return;
    }
    if (body.session_id) setSession(body.session_id);
    renderAnswer(pending, body);
  } catch {
    renderError(pending, "Could not reach the server. Is `newsdesk serve` running?");
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  send.disabled = busy;
  form.setAttribute("aria-busy", String(busy));
}

async function ask(question) {
  addMessage("user", question);
  await request("ask", { question, session_id: sessionId });
}

async function reset() {
  const old = sessionId;
  setSession(null);
  log.replaceChildren();
  if (old) {
    try {
      await fetch(`sessions/${encodeURIComponent(old)}`, { method: "DELETE" });
    } catch {
      // The server forgets idle sessions on its own; nothing to do.
    }
  }
  input.focus();
}

async function loadIndexInfo() {
  try {
    const response = await fetch("health", { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      indexInfo.textContent = problemText(response.status, body);
      indexInfo.classList.add("warning");
      return;
    }
    const range = [body.first_date, body.last_date].filter(Boolean).join(" – ");
    const count = Number(body.articles);
    const noun = count === 1 ? "article" : "articles";
    indexInfo.textContent = `${count.toLocaleString()} ${noun}${range ? `, ${range}` : ""}`;
  } catch {
    indexInfo.textContent = "The server is not reachable.";
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question || send.disabled) return;
  input.value = "";
  autosize();
  ask(question);
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

function autosize() {
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight}px`;
}
input.addEventListener("input", autosize);

resetButton.addEventListener("click", reset);

for (const example of document.querySelectorAll(".example")) {
  example.addEventListener("click", () => {
    input.value = example.textContent.trim();
    form.requestSubmit();
  });
}

loadIndexInfo();
input.focus();
