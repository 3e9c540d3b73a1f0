"""The offline page of an evidence bundle (``index.html``).

Whoever receives a bundle may have no servicetrace and no network, so the page is one
self-contained file: inline CSS and script, no fonts, images or links to fetch. The evidence
is embedded once, as JSON in a ``<script type="application/json">`` element, and drawn by a
small script that only ever sets ``textContent`` (a touchpoint's words cannot inject markup).
Without a script engine the page still shows a summary and the touchpoints, rendered here.

Embedding JSON in HTML needs care: a ``</script>`` inside a string would end the element early,
and ``<!--`` would open a comment, so every ``<``, ``>`` and ``&`` is written as a JSON
``\\u00XX`` escape (as are U+2028/U+2029). ``JSON.parse`` and :func:`json.loads` read them back
unchanged.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["DATA_ELEMENT_ID", "embedded_json", "render_page"]

DATA_ELEMENT_ID = "evidence"

_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}

_CSS = """
:root{--ink:#1d2430;--muted:#5b6472;--line:#d9dee6;--bg:#f7f8fa;--warn:#b3261e;--ok:#1e6b35}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header,main,footer{max-width:1100px;margin:0 auto;padding:12px 20px}
header{border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:8px 0}h2{font-size:16px;margin:22px 0 8px}
.muted{color:var(--muted)}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:12px;word-break:break-all}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
.marker{display:inline-block;min-width:3.4em;padding:1px 6px;border-radius:9px;color:#fff;
font-size:11px;font-weight:600;text-align:center}
.lanes{background:#fff;border:1px solid var(--line);padding:6px 8px}
.lane{position:relative;height:22px;border-bottom:1px dashed var(--line);margin-left:90px}
.lane span.name{position:absolute;left:-90px;width:84px;font-size:12px;top:3px}
.lane i{position:absolute;top:6px;width:9px;height:9px;border-radius:50%;margin-left:-4px}
.lane i.out{border-radius:1px}
.day{background:#eef1f5;font-weight:600}
.flag{font-weight:600}.flag.on{color:var(--warn)}.flag.off{color:var(--ok)}
.verify{background:#fff;border:1px solid var(--line);padding:8px 12px}
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("evidence").textContent);
  var palette = ["#2f6fb0", "#b0592f", "#2f8f5b", "#8a3fa8", "#a8893f", "#3f9aa8",
                 "#a83f5e", "#5e6b7a", "#6b8a2f", "#c0392b", "#34495e", "#7f6a00"];
  var colour = {};
  (data.channels || []).forEach(function (c, i) { colour[c] = palette[i % palette.length]; });
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "style") { node.setAttribute("style", attrs[k]); }
      else { node.className = attrs[k]; }
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) { continue; }
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function show(v) {
    if (v === null || v === undefined || v === "") { return ""; }
    if (Array.isArray(v)) { return v.map(show).join(", "); }
    if (typeof v === "object") { return JSON.stringify(v); }
    return String(v);
  }
  function marker(channel) {
    return el("span", {"class": "marker", style: "background:" + (colour[channel] || "#777")},
              channel);
  }
  function table(headers, rows) {
    var head = el("tr");
    headers.forEach(function (h) { head.appendChild(el("th", {text: h})); });
    var t = el("table", {}, el("thead", {}, head));
    var body = el("tbody");
    rows.forEach(function (r) { body.appendChild(r); });
    t.appendChild(body);
    return t;
  }
  function row(cells) {
    var tr = el("tr");
    cells.forEach(function (c) {
      var node = c instanceof Node;
      tr.appendChild(node ? el("td", {}, c) : el("td", {text: show(c)}));
    });
    return tr;
  }
  function section(title, note) {
    var s = el("section", {}, el("h2", {text: title}));
    if (note) { s.appendChild(el("p", {"class": "muted", text: note})); }
    return s;
  }
  var app = document.getElementById("app");
  var tps = data.touchpoints || [];

  var lanes = section("Touchpoints across channels",
    "Each mark is one touchpoint, placed by event time (round: inbound, square: outbound).");
  if (tps.length) {
    var times = tps.map(function (t) { return Date.parse(t.occurred_at); });
    var first = Math.min.apply(null, times), last = Math.max.apply(null, times);
    var span = Math.max(last - first, 1);
    var box = el("div", {"class": "lanes"});
    (data.channels || []).forEach(function (c) {
      var lane = el("div", {"class": "lane"}, el("span", {"class": "name"}, marker(c)));
      tps.forEach(function (t, i) {
        if (t.channel !== c) { return; }
        var left = (100 * (times[i] - first) / span).toFixed(2);
        var dot = el("i", {"class": t.direction === "outbound" ? "out" : "in",
                           style: "left:" + left + "%;background:" + colour[c]});
        dot.title = t.occurred_at_local + " " + t.kind + " (" + t.service_type + ")";
        lane.appendChild(dot);
      });
      box.appendChild(lane);
    });
    box.appendChild(el("p", {"class": "muted", text: tps[0].occurred_at + " \u2192 " +
                                                         tps[tps.length - 1].occurred_at}));
    lanes.appendChild(box);
  }
  app.appendChild(lanes);

  var timeline = section("Timeline", tps.length + " touchpoint(s) in event-time order.");
  var rows = [], day = null;
  tps.forEach(function (t) {
    var d = String(t.occurred_at).slice(0, 10);
    if (d !== day) {
      day = d;
      var tr = el("tr", {"class": "day"}); var td = el("td", {text: d}); td.colSpan = 8;
      tr.appendChild(td); rows.push(tr);
    }
    rows.push(row([t.occurred_at_local, marker(t.channel),
                   (t.direction === "inbound" ? "\u2190 in" : "\u2192 out"), t.actor,
                   t.kind + " \u00b7 " + t.service_type, t.outcome,
                   t.score === null ? "" : t.score, t.words]));
  });
  timeline.appendChild(table(["local time", "channel", "dir", "actor", "what", "outcome",
                              "score", "words"], rows));
  app.appendChild(timeline);

  var scenes = data.scenes || [];
  var sc = section("Service scenes", scenes.length + " episode(s).");
  sc.appendChild(table(["episode", "service", "started", "ended", "channel path", "status",
                        "first-contact resolution", "satisfaction", "unmatched promises"],
    scenes.map(function (s) {
      return row([el("span", {"class": "mono", text: s.episode_id}), s.service_type,
                  s.started_at, s.ended_at, show(s.channel_path), s.status,
                  s.first_contact_resolution, s.satisfaction, (s.unmatched || []).length]);
    })));
  app.appendChild(sc);

  var dec = data.decisions || {}, risk = dec.risk || {}, alerts = dec.alerts || [];
  var ds = section("Decisions", null);
  ds.appendChild(el("p", {"class": "flag " + (risk.sensitive ? "on" : "off"),
    text: risk.sensitive ? "Flagged sensitive" : "Not flagged sensitive"}));
  ds.appendChild(el("h3", {text: "Flag changes"}));
  ds.appendChild(table(["at", "action", "rule", "version", "triggers", "summary"],
    (risk.changes || []).map(function (c) {
      return row([c.at || c.when, c.action + (c.withdrawn ? " (withdrawn)" : ""), c.rule_id,
                  c.rule_version, el("span", {"class": "mono", text: show(c.triggers)}),
                  c.summary || c.reason]);
    })));
  ds.appendChild(el("h3", {text: "Alerts"}));
  ds.appendChild(table(["at", "alert", "rule", "version", "severity", "status", "summary",
                        "triggers", "history"],
    alerts.map(function (a) {
      return row([a.at, el("span", {"class": "mono", text: a.alert_id}), a.rule_id,
                  a.rule_version, a.severity, a.status, a.summary,
                  el("span", {"class": "mono", text: show(a.triggers)}),
                  (a.history || []).map(function (h) {
                    return h.status + " by " + h.by + (h.when ? " " + h.when : "");
                  }).join("; ")]);
    })));
  app.appendChild(ds);

  var evals = data.evaluations || [];
  var es = section("Evaluations", evals.length + " evaluation(s).");
  evals.forEach(function (e) {
    var form = e.form || {}, score = e.score || {};
    es.appendChild(el("h3", {text: show(e.result).toUpperCase() + " \u00b7 episode " +
      show(e.episode_id) + " \u00b7 " + show(form.title || form.id) + " v" + show(form.version) +
      " \u00b7 by " + show(e.by) + " " + show(e.when)}));
    es.appendChild(table(["score", "value"], Object.keys(score).sort().map(function (k) {
      return row([k, show(score[k])]);
    })));
    es.appendChild(table(["question", "dimension", "type", "answer", "note"],
      (e.questions || []).map(function (q) {
        return row([q.text, q.dimension, q.type, q.answer, q.note]);
      })));
    if (e.comment) { es.appendChild(el("p", {text: "Comment: " + e.comment})); }
  });
  app.appendChild(es);
})();
"""


def embedded_json(data: Mapping[str, Any]) -> str:
    """``data`` as JSON safe to place inside a ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _summary(data: Mapping[str, Any]) -> str:
    """The part every reader sees, script or not: who, what the bundle holds, how to check."""
    customer = data.get("customer", {})
    shown = " · ".join(_e(v) for k, v in customer.items() if k != "id")
    decisions = data.get("decisions", {})
    risk = decisions.get("risk", {})
    counts = [
        f"{len(data.get('touchpoints', []))} touchpoint(s)",
        f"{len(data.get('scenes', []))} scene(s)",
        f"{len(risk.get('changes', []))} flag change(s)",
        f"{len(decisions.get('alerts', []))} alert(s)",
        f"{len(data.get('evaluations', []))} evaluation(s)",
    ]
    chain = data.get("chain", {})
    return (
        f"<h1>Evidence bundle: customer {_e(customer.get('id'))}</h1>"
        f'<p class="muted">{shown}</p>'
        f"<p>Exported {_e(data.get('created_at'))}: {_e(', '.join(counts))}; "
        f"channels: {_e(', '.join(data.get('channels', [])))}.</p>"
        '<div class="verify"><p>Chain head <span class="mono">'
        f"{_e(chain.get('head'))}</span> over {_e(chain.get('length'))} touchpoint(s); "
        f'signed with Ed25519 key <span class="mono">{_e(data.get("signer"))}</span>.</p>'
        "<p>To check that nothing in this bundle was altered, removed, added or reordered, "
        "run <code>servicetrace verify bundle.zip</code> on the zip file "
        "(<code>--key FINGERPRINT</code> to require this signer).</p></div>"
    )


def _fallback(data: Mapping[str, Any]) -> str:
    """The touchpoints and alerts as plain tables, for readers without a script engine."""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{_e(tp.get(key))}</td>"
            for key in ("occurred_at_local", "channel", "direction", "kind", "service_type")
        )
        + f"<td>{_e(tp.get('outcome'))}</td></tr>"
        for tp in data.get("touchpoints", [])
    )
    alerts = "".join(
        "<tr>"
        + "".join(
            f"<td>{_e(alert.get(key))}</td>"
            for key in ("at", "rule_id", "rule_version", "status", "summary")
        )
        + "</tr>"
        for alert in data.get("decisions", {}).get("alerts", [])
    )
    return (
        "<noscript><h2>Touchpoints</h2><table><thead><tr><th>local time</th><th>channel</th>"
        "<th>direction</th><th>kind</th><th>service</th><th>outcome</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<h2>Alerts</h2><table><thead><tr><th>at</th><th>rule</th><th>version</th>"
        f"<th>status</th><th>summary</th></tr></thead><tbody>{alerts}</tbody></table></noscript>"
    )


def render_page(data: Mapping[str, Any]) -> str:
    """The whole page for ``data`` (customer, channels, touchpoints, scenes, decisions,
    evaluations, chain, signer, created_at)."""
    customer_id = _e(data.get("customer", {}).get("id"))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Evidence: customer {customer_id}</title><style>{_CSS}</style></head>\n"
        f"<body><header>{_summary(data)}</header>\n"
        f'<main id="app">{_fallback(data)}</main>\n'
        f'<script type="application/json" id="{DATA_ELEMENT_ID}">{embedded_json(data)}</script>\n'
        f"<script>{_SCRIPT}</script>\n</body></html>\n"
    )
