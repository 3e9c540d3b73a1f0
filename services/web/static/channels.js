// Channel analytics (GET /v1/channels, totals and daily) drawn as inline SVG: one bar per
// channel for volume, first-contact resolution and cost per resolved episode, and a line per
// channel for the daily volume.
import { api, put, colourOf, el, header, row, say, svg, table } from "./common.js";

const WIDTH = 460;
const BAR = 22;
const LABEL = 70;

function barChart(rows, value, format, known, name) {
  const values = rows.map(value);
  const max = Math.max(...values.filter((v) => v !== null && v !== undefined), 0) || 1;
  const room = WIDTH - LABEL - 70;
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${rows.length * BAR + 6}`, class: "bars", role: "img",
    "aria-label": `${name} by channel` });
  rows.forEach((r, i) => {
    const v = values[i];
    const y = i * BAR + 3;
    const w = v === null || v === undefined ? 0 : Math.max(1, (room * v) / max);
    chart.append(
      svg("text", { x: 0, y: y + 15, class: "bar-label", text: r.channel }),
      svg("rect", { x: LABEL, y, width: w, height: BAR - 6, fill: colourOf(r.channel, known), class: "bar",
        "data-channel": r.channel, "data-value": v === null || v === undefined ? "" : v },
      svg("title", { text: `${r.channel}: ${format(v)}` })),
      svg("text", { x: LABEL + w + 6, y: y + 15, class: "bar-value", text: format(v) }));
  });
  return chart;
}

function lineChart(daily, known) {
  const days = [...new Set(daily.map((d) => d.day))].sort();
  if (!days.length) return el("p", { class: "muted", text: "No day in the period." });
  const width = 960;
  const height = 260;
  const left = 40;
  const bottom = 24;
  const max = Math.max(...daily.map((d) => d.volume), 1);
  const x = (day) => left + ((width - left - 10) * days.indexOf(day)) / Math.max(days.length - 1, 1);
  const y = (v) => height - bottom - ((height - bottom - 10) * v) / max;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "line-chart", role: "img",
    "aria-label": "daily volume by channel" });
  chart.append(
    svg("line", { x1: left, x2: width - 10, y1: y(0), y2: y(0), class: "axis-line" }),
    svg("text", { x: left - 4, y: y(max) + 4, class: "axis end", text: String(max) }),
    svg("text", { x: left - 4, y: y(0) + 4, class: "axis end", text: "0" }),
    svg("text", { x: left, y: height - 6, class: "axis", text: days[0] }),
    svg("text", { x: width - 10, y: height - 6, class: "axis end", text: days[days.length - 1] }));
  for (const channel of known) {
    const byDay = new Map(daily.filter((d) => d.channel === channel).map((d) => [d.day, d.volume]));
    const points = days.map((day) => `${x(day).toFixed(1)},${y(byDay.get(day) || 0).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points, class: "series", stroke: colourOf(channel, known), "data-channel": channel },
      svg("title", { text: channel })));
  }
  const legend = el("p", { class: "legend" }, known.map((c) => el("span", {},
    el("i", { class: "swatch", "data-colour": colourOf(c, known) }), c)));
  for (const swatch of legend.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;
  return el("div", {}, chart, legend);
}

function pct(v) {
  return v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`;
}

function money(v) {
  return v === null || v === undefined ? "–" : v.toFixed(2);
}

async function load() {
  const query = new URLSearchParams();
  for (const name of ["from", "to"]) {
    const value = document.getElementById(name).value;
    if (value) query.set(name, value);
  }
  let totals;
  let daily;
  try {
    [totals, daily] = await Promise.all([api(`/v1/channels?${query}`), api(`/v1/channels?${query}&daily=true`)]);
  } catch (error) {
    say(error.status === 403 ? `Your role cannot see analytics: ${error.message}` : error.message, "error");
    return;
  }
  say("");
  const rows = totals.channels;
  const known = rows.map((r) => r.channel);
  put(document.getElementById("volume-chart"), barChart(rows, (r) => r.volume, String, known, "volume"));
  put(document.getElementById("fcr-chart"), barChart(rows, (r) => r.fcr_rate, pct, known, "first-contact resolution"));
  put(document.getElementById("cost-chart"), barChart(rows, (r) => r.cost_per_resolved_episode, money, known, "cost per resolved episode"));
  put(document.getElementById("daily-chart"), lineChart(daily.channels, known));
  put(document.getElementById("figures"), table(
    ["channel", "volume", "inbound", "outbound", "handled", "episodes", "resolved", "FCR", "cost", "cost / resolved"],
    rows.map((r) => row([r.channel, r.volume, r.inbound, r.outbound, r.handled, r.episodes, r.resolved_episodes,
      pct(r.fcr_rate), money(r.cost), money(r.cost_per_resolved_episode)])), { id: "figures-table" }));
}

document.getElementById("period").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});

if (await header("channels")) await load();
