// Page 7: control. Every Voice parameter, the envelope it makes, and the waveform page with the loop.
import { api, status } from "./api.js";
import { hear } from "./audio.js";
import { canvas, clear, drawStack, text, DIM, FAINT, GREEN } from "./draw.js";
import { setVoice } from "./studio.js";

export const TITLE = "CONTROL";
// [name, label, kind, min, max, step]; segments are shown 1-based as on the CMI.
const FIELDS = [
  ["mode", "MODE", "select", [1, 4]],
  ["filter", "FILTER", "int", 0, 127],
  ["attack_timer", "ATTACK", "int", 0, 65535],
  ["decay_timer", "DECAY", "int", 0, 65535],
  ["sustain_level", "SUSTAIN", "int", 0, 255],
  ["damping_timer", "DAMPING", "int", 0, 65535],
  ["curve", "CURVE", "select", ["linear", "exponential"]],
  ["volume", "VOLUME", "int", 0, 255],
  ["root_key", "ROOT KEY", "int", 0, 127],
  ["start_segment", "START SEG", "seg"],
  ["loop_start_segment", "LOOP START", "seg"],
  ["loop_end_segment", "LOOP END", "seg"],
  ["filter_key_tracking", "KEY TRACK", "float", 0, 2, 0.05],
  ["segment_time_s", "SEG TIME S", "float", 0.001, 2, 0.001],
];
let els = null;

export function render(area, studio) {
  const form = document.createElement("div");
  form.className = "fields";
  form.id = "page7-fields";
  const inputs = {};
  for (const [name, label, kind, a, b, step] of FIELDS) {
    const l = document.createElement("label");
    l.textContent = label;
    l.htmlFor = `p7-${name}`;
    let input;
    if (kind === "select") {
      input = document.createElement("select");
      a.forEach((v) => input.append(new Option(String(v).toUpperCase(), v)));
    } else {
      input = Object.assign(document.createElement("input"), { type: "number" });
      if (kind === "seg") { input.min = 0; input.max = 128; input.title = "1-128; 0 or empty: no loop"; }
      else { input.min = a; input.max = b; input.step = step || 1; }
    }
    input.id = `p7-${name}`;
    input.addEventListener("change", () => send(name, kind, input).catch(() => update(studio.voice)));
    inputs[name] = input;
    form.append(l, input);
  }
  const hearBtn = Object.assign(document.createElement("button"), { textContent: "HEAR", id: "page7-hear" });
  hearBtn.addEventListener("click", () => hear(60, 1.0));
  form.append(document.createElement("span"), hearBtn);
  const env = canvas(560, 180);
  env.id = "page7-envelope";
  const stack = canvas(560, 230);
  stack.id = "page7-stack";
  const right = document.createElement("div");
  right.className = "col";
  const h1 = document.createElement("h2"); h1.textContent = "ENVELOPE (KEY HELD 0.5 S, THEN RELEASED)";
  const h2 = document.createElement("h2"); h2.textContent = "WAVEFORM";
  right.append(h1, env, h2, stack);
  const row = document.createElement("div"); row.className = "row";
  row.append(form, right);
  area.append(row);
  els = { inputs, env, stack };
}

async function send(name, kind, input) {
  let value = input.value;
  if (kind === "int" || (kind === "select" && name === "mode")) value = Number(value);
  else if (kind === "float") value = Number(value);
  else if (kind === "seg") value = value === "" || Number(value) === 0 ? null : Number(value) - 1;
  const changes = { [name]: value };
  // A loop is set or cleared as a pair.
  const v = window.studio.voice.parameters;
  if (name === "loop_start_segment" && value !== null && v.loop_end_segment === null) changes.loop_end_segment = value;
  if (name === "loop_end_segment" && value !== null && v.loop_start_segment === null) changes.loop_start_segment = value;
  if ((name === "loop_start_segment" || name === "loop_end_segment") && value === null) {
    changes.loop_start_segment = null; changes.loop_end_segment = null;
  }
  setVoice(await api("/api/voice/parameters", { parameters: changes }));
  status(`${name.replaceAll("_", " ").toUpperCase()} SET`);
}

export function update(voice) {
  if (!els || !els.env.isConnected) return;
  const p = voice.parameters;
  for (const [name, , kind] of FIELDS) {
    const input = els.inputs[name];
    const value = p[name];
    input.value = kind === "seg" ? (value === null ? "" : value + 1) : value;
  }
  drawEnvelope(els.env, voice.envelope);
  const loop = p.loop_start_segment === null ? null : [p.loop_start_segment, p.loop_end_segment];
  const count = p.mode === 1 ? 32 : 128;
  drawStack(els.stack, voice.wave, 0, count, { loop, start: p.start_segment, bits: voice.bits });
}

function drawEnvelope(c, points) {
  const g = clear(c);
  const W = c.logicalWidth, H = c.logicalHeight, pad = 18;
  const tMax = Math.max(...points.map((p) => p[0]), 1e-3);
  g.strokeStyle = FAINT;
  for (let q = 0; q <= 4; q++) { const y = pad + ((H - 2 * pad) * q) / 4; g.beginPath(); g.moveTo(0, y); g.lineTo(W, y); g.stroke(); }
  g.strokeStyle = GREEN;
  g.lineWidth = 2;
  g.beginPath();
  points.forEach(([t, level], i) => {
    const x = 4 + (t / tMax) * (W - 8), y = H - pad - (level / 255) * (H - 2 * pad);
    i ? g.lineTo(x, y) : g.moveTo(x, y);
  });
  g.stroke();
  text(g, "255", 2, pad - 4);
  text(g, `${tMax.toFixed(2)} S`, W - 60, H - 4);
  text(g, "0", 2, H - 4);
  g.lineWidth = 1;
  text(g, "ATTACK  DECAY  SUSTAIN  DAMPING", 40, pad - 4, DIM);
}
