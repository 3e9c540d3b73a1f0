// The supervisor's dashboard: alerts by status, updated live from the Server-Sent Events of
// GET /v1/alerts/stream (the session cookie authenticates it), ack/resolve/dismiss, each
// alert's age ticking, and the customers flagged sensitive now (GET /v1/risk/sensitive).
import { api, put, can, el, header, journeyHref, link, say, table } from "./common.js";

const alerts = new Map(); // alert id → row as GET /v1/alerts lists it
let who = null;
const CLOSED_SHOWN = 50;

function groupOf(status) {
  return status === "open" || status === "acknowledged" ? status : "closed";
}

export function age(fromIso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

async function act(alert, action, note) {
  const body = action === "resolve" ? { note } : action === "dismiss" ? { reason: note } : {};
  if (action !== "ack" && !note) {
    say(`Write what was done (resolve) or why no action is needed (dismiss) first.`, "error");
    return;
  }
  try {
    const changed = await api(`/v1/alerts/${alert.alert_id}/${action}`, { method: "POST", body });
    const last = changed.history[changed.history.length - 1] || {};
    upsert({ ...alert, status: changed.status, last_by: last.by, last_when: last.when });
    say(`Alert ${alert.alert_id.slice(0, 8)} ${changed.status}.`);
  } catch (error) {
    say(error.message, "error");
  }
}

function actions(alert) {
  if (!can(who, "alerts:act") || groupOf(alert.status) === "closed") return "";
  const note = el("input", { class: "note", placeholder: "note / reason", "aria-label": "note or reason" });
  return el("div", { class: "actions" },
    alert.status === "open" ? el("button", { type: "button", class: "ack", text: "Ack", onclick: () => act(alert, "ack") }) : null,
    note,
    el("button", { type: "button", class: "resolve", text: "Resolve", onclick: () => act(alert, "resolve", note.value.trim()) }),
    el("button", { type: "button", class: "dismiss", text: "Dismiss", onclick: () => act(alert, "dismiss", note.value.trim()) }));
}

function alertRow(alert, fresh) {
  const raised = alert.raised_when || alert.at;
  return el("tr", { "data-alert-id": alert.alert_id, class: `alert ${alert.severity}${fresh ? " fresh" : ""}` },
    el("td", { class: "age", "data-since": raised, title: `raised ${raised}`, text: age(raised) }),
    el("td", { title: alert.at, text: alert.at.slice(0, 16).replace("T", " ") }),
    el("td", {}, link(journeyHref(alert.customer_id), alert.customer_id)),
    el("td", { text: `${alert.rule_id} v${alert.rule_version}` }),
    el("td", { class: "severity", text: alert.severity }),
    el("td", { class: "status", text: alert.last_by ? `${alert.status} (${alert.last_by})` : alert.status }),
    el("td", { text: alert.summary }),
    el("td", {}, actions(alert)));
}

const HEADERS = ["age", "event time", "customer", "rule", "severity", "status", "summary", ""];

function render(freshId = null) {
  // A note being typed survives a redraw (an alert event may arrive meanwhile).
  const notes = new Map([...document.querySelectorAll("tr[data-alert-id] input.note")]
    .filter((input) => input.value)
    .map((input) => [input.closest("tr").dataset.alertId, input.value]));
  const groups = { open: [], acknowledged: [], closed: [] };
  for (const alert of alerts.values()) groups[groupOf(alert.status)].push(alert);
  for (const [name, rows] of Object.entries(groups)) {
    rows.sort((a, b) => (b.raised_when || b.at).localeCompare(a.raised_when || a.at) || b.at.localeCompare(a.at));
    const shown = name === "closed" ? rows.slice(0, CLOSED_SHOWN) : rows;
    document.getElementById(`${name}-count`).textContent = `(${rows.length})`;
    document.getElementById(name).replaceChildren(shown.length
      ? table(HEADERS, shown.map((a) => alertRow(a, a.alert_id === freshId)), { class: "alerts" })
      : el("p", { class: "muted", text: "None." }));
  }
  for (const [id, value] of notes) {
    const input = document.querySelector(`tr[data-alert-id="${id}"] input.note`);
    if (input) input.value = value;
  }
}

function upsert(alert, fresh = false) {
  alerts.set(alert.alert_id, { ...(alerts.get(alert.alert_id) || {}), ...alert });
  render(fresh ? alert.alert_id : null);
}

async function loadSensitive() {
  const box = document.getElementById("sensitive");
  try {
    const data = await api("/v1/risk/sensitive");
    document.getElementById("sensitive-count").textContent = `(${data.count})`;
    put(box, data.customers.length
      ? el("ul", { class: "sensitive" }, data.customers.map((c) => el("li", { "data-customer-id": c.customer_id },
        link(journeyHref(c.customer_id), c.customer_id),
        ` · ${c.service_type} · ${c.action.replace("_", " ")} ${c.at.slice(0, 16)} · ${c.summary}`)))
      : el("p", { class: "muted", text: "No customer is flagged sensitive." }));
  } catch (error) {
    put(box, el("p", { class: "muted", text: error.message }));
  }
}

function follow() {
  const badge = document.getElementById("live-state");
  const stream = new EventSource("/v1/alerts/stream");
  stream.addEventListener("ready", () => {
    badge.textContent = "live";
    badge.className = "badge live";
  });
  stream.addEventListener("alert", (event) => {
    const data = JSON.parse(event.data);
    upsert(data.alert, data.change === "raised");
    loadSensitive();
  });
  stream.addEventListener("error", () => {
    badge.textContent = "reconnecting…";
    badge.className = "badge down";
  });
}

who = await header("alerts");
if (who) {
  try {
    for (const alert of await api("/v1/alerts?limit=1000")) alerts.set(alert.alert_id, alert);
    render();
    follow();
    loadSensitive();
    setInterval(() => {
      const now = Date.now();
      for (const cell of document.querySelectorAll("td.age")) cell.textContent = age(cell.dataset.since, now);
    }, 1000);
    setInterval(loadSensitive, 30000);
  } catch (error) {
    say(error.status === 403 ? `Your role cannot see alerts: ${error.message}` : error.message, "error");
  }
}
