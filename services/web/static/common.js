// Shared by every page: calls to the API with the session cookie, safe DOM building
// (text only: data never becomes markup), the page header, and small SVG helpers.

export const CSRF = { "X-Servicetrace": "1" };

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// GET (or another method with a JSON body) against the API; the cookie goes along on its own.
export async function api(path, { method = "GET", body } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    Object.assign(init.headers, CSRF);
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  const answer = await fetch(path, init);
  const data = await answer.json().catch(() => null);
  if (!answer.ok) {
    const error = (data && data.error) || {};
    if (answer.status === 401 && !/\/ui\/(index\.html)?$/.test(location.pathname)) {
      location.assign(`/ui/?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiError(answer.status, error.code || "http_error",
      error.message || `HTTP ${answer.status}`);
  }
  return data;
}

// An element: el("td", {class: "x", text: "..."}, child, ...). Attributes are set as
// attributes, text as textContent: nothing here parses HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  return fill(node, attrs, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replace a node's children, leaving out null, undefined and false (optional parts).
export function put(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function show(value) {
  if (value === null || value === undefined || value === "") return "–";
  if (Array.isArray(value)) return value.map(show).join(", ");
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function table(headers, rows, attrs = {}) {
  return el("table", attrs,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h })))),
    el("tbody", {}, rows));
}

export function row(cells, attrs = {}) {
  return el("tr", attrs, cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { text: show(c) }))));
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

export function link(href, text, attrs = {}) {
  return el("a", { href, text, ...attrs });
}

export function journeyHref(customer) {
  return `/ui/journey.html?customer=${encodeURIComponent(customer)}`;
}

export function sceneHref(episode) {
  return `/ui/scene.html?episode=${encodeURIComponent(episode)}`;
}

const PALETTE = ["#2f6fb0", "#b0592f", "#2f8f5b", "#8a3fa8", "#a8893f", "#3f9aa8",
  "#a83f5e", "#5e6b7a", "#6b8a2f", "#c0392b", "#34495e", "#7f6a00"];

// One colour per channel name, the same on every page.
export function colourOf(channel, known) {
  const index = known.indexOf(channel);
  return PALETTE[(index < 0 ? known.length : index) % PALETTE.length];
}

// Status line at the top of a page: errors a person should read.
export function say(message, kind = "info") {
  const box = document.getElementById("status");
  if (!box) return;
  if (!message) {
    box.replaceChildren();
    return;
  }
  box.replaceChildren(el("p", { class: `status ${kind}`, role: kind === "error" ? "alert" : "status", text: message }));
}

// The header: who is signed in, the pages, sign out. Resolves to the session (or null).
export async function header(active) {
  const nav = document.getElementById("nav");
  let who = null;
  try {
    who = await api("/ui/session");
  } catch (error) {
    if (error.status !== 401) say(error.message, "error");
    return null;
  }
  const pages = [["journey", "/ui/journey.html", "Journey replay"],
    ["alerts", "/ui/alerts.html", "Alerts"], ["channels", "/ui/channels.html", "Channels"]];
  const out = el("button", { type: "button", id: "logout", text: "Sign out", onclick: async () => {
    await api("/ui/logout", { method: "POST" });
    location.assign("/ui/");
  } });
  nav.replaceChildren(
    el("strong", { text: "servicetrace" }),
    ...pages.map(([key, href, text]) => link(href, text, { class: key === active ? "active" : null })),
    el("span", { class: "who", id: "who", text: `${who.name} (${who.roles.join(", ")})` }),
    out);
  return who;
}

export function can(who, capability) {
  return Boolean(who && who.capabilities.includes(capability));
}
