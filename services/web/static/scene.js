// One service scene (GET /v1/scenes/{episode}) and its evaluations (GET /v1/evaluations).
import { api, put, el, header, journeyHref, link, param, row, say, show, table } from "./common.js";

function summary(scene) {
  const facts = [
    ["customer", link(journeyHref(scene.customer_id), scene.customer_id)],
    ["service", scene.service_type], ["case", scene.case_id], ["status", scene.status],
    ["started", scene.started_at], ["ended", scene.ended_at],
    ["channel path", scene.channel_path.join(" → ")], ["touchpoints", scene.touchpoints],
    ["first-contact resolution", scene.first_contact_resolution],
    ["time to resolution (s)", scene.time_to_resolution_seconds], ["reopened", scene.reopened],
    ["satisfaction", scene.satisfaction], ["cost", scene.cost],
    ["unmatched promises", scene.unmatched_promises],
  ];
  return el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [
    el("dt", { text: k }), v instanceof Node ? el("dd", {}, v) : el("dd", { text: show(v) })]));
}

function evaluationCard(e) {
  const score = Object.entries(e.score).map(([k, v]) => `${k}: ${show(v)}`).join(" · ");
  return el("article", { class: "evaluation", "data-evaluation-id": e.evaluation_id },
    el("h3", { text: `${String(e.result).toUpperCase()} · ${e.form.title} v${e.form.version} · by ${e.by} ${e.when}` }),
    el("p", { text: score }),
    table(["question", "answer", "note"], e.questions.map((q) => row([q.text, q.answer, q.note]))),
    e.comment ? el("p", { class: "muted", text: e.comment }) : null);
}

async function load(episode) {
  const scene = await api(`/v1/scenes/${encodeURIComponent(episode)}`);
  document.getElementById("title").textContent = `Scene · ${scene.service_type} · ${scene.episode_id}`;
  put(document.getElementById("back-link"), link(journeyHref(scene.customer_id), `← journey of ${scene.customer_id}`));
  put(document.getElementById("summary"), el("h2", { text: "Summary" }), summary(scene));
  put(document.getElementById("touchpoints"), table(
    ["occurred", "channel", "dir", "actor", "what", "outcome", "words"],
    scene.touchpoints_detail.map((tp) => row([tp.occurred_at_local, tp.channel, tp.direction, tp.actor,
      `${tp.kind} · ${tp.service_type}`, tp.outcome, tp.words], { class: "touchpoint" }))));
  put(document.getElementById("pairings"), scene.pairings.length
    ? table(["promise", "at", "executed by", "executed at", "status"], scene.pairings.map((p) => row([
      p.kind, p.at, p.execution_kind, p.executed_at, p.status])))
    : el("p", { class: "muted", text: "No promise made in this scene." }));
  let evaluations = [];
  try {
    evaluations = await api(`/v1/evaluations?episode=${encodeURIComponent(episode)}`);
  } catch (error) {
    put(document.getElementById("evaluations"), el("p", { class: "muted", text: error.message }));
    return;
  }
  put(document.getElementById("evaluations"), evaluations.length
    ? el("div", {}, evaluations.map(evaluationCard))
    : el("p", { class: "muted", text: "Not evaluated yet (servicetrace evaluate, or POST /v1/evaluations)." }));
}

const who = await header(null);
const episode = param("episode");
if (who && episode) await load(episode).catch((error) => say(error.message, "error"));
else if (who) say("Open a scene from a journey replay.");
