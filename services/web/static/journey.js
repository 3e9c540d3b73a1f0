// The auditor's journey replay: channel lanes with one marker per touchpoint, a slider and
// back/next buttons through the replay steps (GET /v1/customers/{id}/replay), the flags and
// warnings in force after each step, the as-of view (late arrivals shown apart), and links to
// each scene and its evaluations.
import {
  api, put, colourOf, el, header, journeyHref, link, param, row, say, sceneHref, show, svg, table,
} from "./common.js";

const state = { customer: null, steps: [], channels: [], index: 0, evaluations: [], asOf: null };

const WIDTH = 1000;
const LABEL = 90;
const LANE = 30;

function touchpointsOf() {
  return state.steps.map((s) => s.touchpoint);
}

function channelsOf(touchpoints) {
  const seen = [];
  for (const tp of touchpoints) if (!seen.includes(tp.channel)) seen.push(tp.channel);
  return seen;
}

// --- the timeline ---------------------------------------------------------------------------

function drawTimeline() {
  const tps = touchpointsOf();
  const times = tps.map((tp) => Date.parse(tp.occurred_at));
  const first = Math.min(...times);
  const span = Math.max(Math.max(...times) - first, 1);
  const x = (t) => LABEL + 10 + ((WIDTH - LABEL - 20) * (t - first)) / span;
  const height = state.channels.length * LANE + 24;
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "lanes", role: "img",
    "aria-label": `${tps.length} touchpoints on ${state.channels.length} channels` });
  state.channels.forEach((channel, lane) => {
    const y = lane * LANE + LANE / 2;
    chart.append(
      svg("text", { x: 4, y: y + 4, class: "lane-name", text: channel }),
      svg("line", { x1: LABEL, x2: WIDTH - 4, y1: y, y2: y, class: "lane-line" }));
  });
  state.steps.forEach((step, index) => {
    const tp = step.touchpoint;
    const cx = x(times[index]);
    const cy = state.channels.indexOf(tp.channel) * LANE + LANE / 2;
    const fill = colourOf(tp.channel, state.channels);
    const common = {
      class: `marker${step.late ? " late" : ""}`, fill, "data-step": index + 1,
      "data-event-id": tp.event_id, "data-channel": tp.channel, tabindex: 0,
      onclick: () => select(index),
    };
    const mark = tp.direction === "outbound"
      ? svg("rect", { ...common, x: cx - 5, y: cy - 5, width: 10, height: 10 })
      : svg("circle", { ...common, cx, cy, r: 5.5 });
    mark.append(svg("title", { text: `step ${index + 1}: ${tp.occurred_at_local} ${tp.channel} ${tp.kind} (${tp.service_type})` }));
    chart.append(mark);
  });
  const axis = height - 6;
  chart.append(
    svg("text", { x: LABEL, y: axis, class: "axis", text: tps[0].occurred_at.slice(0, 16) }),
    svg("text", { x: WIDTH - 4, y: axis, class: "axis end", text: tps[tps.length - 1].occurred_at.slice(0, 16) }));
  if (state.asOf) {
    const t = Date.parse(state.asOf.as_of);
    if (t >= first && t <= first + span) {
      chart.append(svg("line", { x1: x(t), x2: x(t), y1: 0, y2: height - 18, class: "asof-line" }));
    }
  }
  put(document.getElementById("timeline"), chart);
}

function markAsOf() {
  const late = new Set((state.asOf ? state.asOf.late_arrivals : []).map((tp) => tp.event_id));
  const moment = state.asOf ? Date.parse(state.asOf.as_of) : null;
  for (const mark of document.querySelectorAll("#timeline .marker")) {
    const step = state.steps[Number(mark.dataset.step) - 1];
    mark.classList.toggle("unknown-then", late.has(mark.dataset.eventId));
    mark.classList.toggle("after-asof", moment !== null && Date.parse(step.touchpoint.occurred_at) > moment);
  }
}

// --- one step ---------------------------------------------------------------------------------

function select(index) {
  state.index = Math.max(0, Math.min(index, state.steps.length - 1));
  const step = state.steps[state.index];
  const slider = document.getElementById("slider");
  slider.value = String(state.index + 1);
  document.getElementById("step-label").textContent = `step ${step.step} of ${step.of} · ${step.touchpoint.occurred_at_local}`;
  document.getElementById("back").disabled = state.index === 0;
  document.getElementById("next").disabled = state.index === state.steps.length - 1;
  for (const mark of document.querySelectorAll("#timeline .marker.selected")) mark.classList.remove("selected");
  const current = document.querySelector(`#timeline .marker[data-step="${state.index + 1}"]`);
  if (current) current.classList.add("selected");
  showStep(step);
  showRisk(step.risk);
}

function showStep(step) {
  const tp = step.touchpoint;
  const episode = step.episode;
  const evaluations = state.evaluations.filter((e) => e.episode_id === episode.episode_id);
  const facts = [
    ["occurred", `${tp.occurred_at} (${tp.occurred_at_local})`], ["recorded", tp.recorded_at],
    ["channel", tp.channel], ["direction", tp.direction], ["actor", tp.actor],
    ["what", `${tp.kind} · ${tp.service_type}`], ["outcome", tp.outcome], ["score", tp.score],
    ["words", tp.words],
  ];
  put(document.getElementById("step"), 
    el("h2", { text: `Touchpoint ${step.step} of ${step.of}` }),
    step.late ? el("p", { class: "late-note", id: "late-note",
      text: `Recorded ${step.late.late_by_hours} h late (${step.late.recorded_at}): ${step.late.note}.` }) : null,
    el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: show(v) })])),
    el("p", {}, "Scene: ", link(sceneHref(episode.episode_id), `${episode.service_type} · ${episode.status} · ${episode.touchpoints} touchpoint(s)`, { id: "scene-link" })),
    el("p", { id: "step-evaluations" }, evaluations.length
      ? ["Evaluated: ", ...evaluations.map((e) => link(sceneHref(e.episode_id), `${e.result} by ${e.by} (${e.when})`))]
      : "Not evaluated."));
}

function decisionItem(d) {
  return el("li", {}, el("strong", { text: d.rule_id }), ` ${d.severity || d.action} · ${d.summary}`);
}

function showRisk(risk) {
  const flags = risk.sensitive;
  const byRule = Object.entries(risk.alerts_by_rule).map(([rule, n]) => `${rule} ${n}`).join(", ");
  put(document.getElementById("risk"), 
    el("h2", { text: "Flags and warnings in force" }),
    el("p", { id: "flag-state", class: flags.length ? "flag on" : "flag off",
      text: flags.length ? `Sensitive: ${flags.length} flag(s) in force` : "Not flagged sensitive" }),
    flags.length ? el("ul", { id: "flags" }, flags.map((f) => el("li", {},
      el("strong", { text: f.flag }), ` ${f.service_type} since ${f.since}, expires ${f.expires_at}: ${f.summary}`))) : null,
    el("p", { id: "alerts-so-far", text: `Alerts so far: ${risk.alerts_so_far}${byRule ? ` (${byRule})` : ""}` }),
    el("p", { id: "warnings-so-far", text: `Agent warnings so far: ${risk.warnings_so_far}` }),
    el("p", { id: "warning-now", text: risk.warning_at_this_contact
      ? `Warning shown at this contact: ${risk.warning_at_this_contact.summary}` : "No warning at this contact." }),
    risk.new_decisions.length
      ? el("div", {}, el("h3", { text: "Decided at this step" }), el("ul", { id: "new-decisions" }, risk.new_decisions.map(decisionItem)))
      : null);
}

// --- as of ------------------------------------------------------------------------------------

async function showAsOf(moment) {
  const target = document.getElementById("asof");
  if (!moment) {
    state.asOf = null;
    put(target, );
    drawTimeline();
    select(state.index);
    return;
  }
  let data;
  try {
    data = await api(`/v1/customers/${encodeURIComponent(state.customer)}/journey?as_of=${encodeURIComponent(moment)}`);
  } catch (error) {
    put(target, el("p", { class: "status error", role: "alert", text: error.message }));
    return;
  }
  state.asOf = data;
  drawTimeline();
  markAsOf();
  select(state.index);
  const risk = data.risk;
  const late = data.late_arrivals;
  put(target, 
    el("p", { id: "asof-summary", text: `At ${data.as_of}: ${data.known.touchpoints.length} touchpoint(s) known, ${late.length} recorded late (occurred by then, not known then), ${risk.sensitive.length} flag(s) in force, ${risk.alerts.length} alert(s).` }),
    el("h3", { text: "Flags in force then" }),
    risk.sensitive.length ? el("ul", {}, risk.sensitive.map((f) => el("li", { text: `${f.flag} ${f.service_type} since ${f.since}: ${f.summary}` }))) : el("p", { class: "muted", text: "None." }),
    el("h3", { text: "Alerts then (status then · now)" }),
    risk.alerts.length ? table(["at", "rule", "severity", "summary", "status then", "now"], risk.alerts.map((a) => row([
      a.at, a.rule_id, a.severity, a.summary,
      a.production ? a.production.status_at_as_of : "not raised in production",
      a.production ? a.production.status_now : "–"]))) : el("p", { class: "muted", text: "None." }),
    el("h3", { text: "Warning an agent saw at the latest contact" }),
    el("p", { text: risk.agent_warnings.shown_at_latest_contact ? risk.agent_warnings.shown_at_latest_contact.summary : "None." }),
    el("section", { id: "late-arrivals", class: "apart" },
      el("h3", { text: `Recorded late: not known at that moment (${late.length})` }),
      late.length
        ? table(["occurred", "recorded", "channel", "what", "late by (h)", "recorded after the moment (h)"],
          late.map((tp) => row([tp.occurred_at, tp.recorded_at, tp.channel, `${tp.kind} · ${tp.service_type}`, tp.late_by_hours, tp.recorded_after_as_of_hours],
            { class: "late-arrival", "data-event-id": tp.event_id })))
        : el("p", { class: "muted", text: "Nothing occurred by then that was recorded after it." })),
    el("p", { class: "muted small", text: risk.production_note }));
}

// --- loading ----------------------------------------------------------------------------------

function showIdentity(customer) {
  const parts = ["name", "phone", "email", "address"].map((k) => `${k}: ${show(customer[k])}`);
  put(document.getElementById("identity"), 
    el("p", { text: `${parts.join(" · ")}${customer.personal_masked ? " (personal fields masked for your role)" : ""}` }));
}

async function load(customer) {
  state.customer = customer;
  document.getElementById("customer").value = customer;
  document.getElementById("title").textContent = `Journey replay · ${customer}`;
  const path = `/v1/customers/${encodeURIComponent(customer)}`;
  let replay;
  try {
    [replay] = await Promise.all([api(`${path}/replay`), api(`${path}/journey?limit=1`).then((j) => showIdentity(j.customer))]);
  } catch (error) {
    say(error.status === 403 ? `Your role cannot replay a journey: ${error.message}` : error.message, "error");
    return;
  }
  state.steps = replay.steps;
  state.channels = channelsOf(touchpointsOf());
  state.evaluations = await api(`/v1/evaluations?customer=${encodeURIComponent(customer)}`).catch(() => []);
  document.getElementById("slider").max = String(state.steps.length);
  drawTimeline();
  select(0);
  showEvaluations();
}

function showEvaluations() {
  const box = document.getElementById("evaluations");
  if (!state.evaluations.length) {
    put(box, el("p", { class: "muted", text: "No evaluation of this customer's scenes yet." }));
    return;
  }
  put(box, table(["scene", "result", "by", "when"], state.evaluations.map((e) => row([
    link(sceneHref(e.episode_id), e.episode_id.slice(0, 8)), e.result, e.by, e.when]))));
}

document.getElementById("slider").addEventListener("input", (event) => select(Number(event.target.value) - 1));
document.getElementById("back").addEventListener("click", () => select(state.index - 1));
document.getElementById("next").addEventListener("click", () => select(state.index + 1));
document.getElementById("pick").addEventListener("submit", (event) => {
  event.preventDefault();
  location.assign(journeyHref(document.getElementById("customer").value.trim()));
});
document.getElementById("asof-form").addEventListener("submit", (event) => {
  event.preventDefault();
  showAsOf(document.getElementById("asof-input").value.trim());
});
document.getElementById("asof-clear").addEventListener("click", () => {
  document.getElementById("asof-input").value = "";
  showAsOf(null);
});

const who = await header("journey");
const customer = param("customer");
if (who && customer) await load(customer);
else if (who) say("Give a customer id to replay their journey.");
