// Page D: the waveform. One 128-level segment drawn with the mouse (-128..127), and the stack of segments.
import { api, status } from "./api.js";
import { hear } from "./audio.js";
import { canvas, clear, drawStack, text, DIM, FAINT, GREEN, SEG } from "./draw.js";
import { setVoice } from "./studio.js";

export const TITLE = "WAVEFORM";
let segment = 0;
let levels = new Array(SEG).fill(0);
let els = null;

export function render(area, studio) {
  const draw = canvas(512, 256, "draw");
  draw.tabIndex = 0;
  draw.id = "paged-draw";
  draw.setAttribute("aria-label", "the segment's 128 levels: drag to draw; [ and ] choose the segment");
  const stack = canvas(470, 300);
  stack.id = "paged-stack";
  const pick = Object.assign(document.createElement("input"), { type: "number", min: 1, max: 128, value: segment + 1, id: "paged-segment" });
  const apply = Object.assign(document.createElement("button"), { textContent: "STORE SEGMENT", id: "paged-store" });
  const sine = Object.assign(document.createElement("button"), { textContent: "SINE" });
  const zero = Object.assign(document.createElement("button"), { textContent: "ZERO" });
  const hearBtn = Object.assign(document.createElement("button"), { textContent: "HEAR" });
  const controls = document.createElement("div"); controls.className = "row";
  const label = document.createElement("label"); label.append("SEGMENT ", pick);
  controls.append(label, apply, sine, zero, hearBtn);
  const macros = document.createElement("div"); macros.className = "row";
  const num = (id, value, props = {}) => Object.assign(document.createElement("input"), { type: "number", id, value, ...props });
  const mFrom = num("paged-from", 1, { min: 1, max: 128 }), mTo = num("paged-to", 32, { min: 1, max: 128 });
  const mGain = num("paged-gain", 0.5, { min: 0, max: 16, step: 0.05 });
  const gainBtn = Object.assign(document.createElement("button"), { textContent: "GAIN", id: "paged-gain-apply" });
  const mergeBtn = Object.assign(document.createElement("button"), { textContent: "MERGE", id: "paged-merge", title: "crossfade the segments between FROM and TO" });
  const lab = (t, i) => { const l = document.createElement("label"); l.append(t, i); return l; };
  macros.append(lab("FROM ", mFrom), lab("TO ", mTo), lab("GAIN ", mGain), gainBtn, mergeBtn);
  const runMacro = async (macro) => {
    const voice = await api("/api/voice/macro", { macro, first: Number(mFrom.value) - 1, last: Number(mTo.value) - 1,
                                                  gain: Number(mGain.value) }).catch(() => null);
    if (voice) { setVoice(voice); status(`${macro.toUpperCase()} ${mFrom.value}-${mTo.value}`); }
  };
  gainBtn.addEventListener("click", () => runMacro("gain"));
  mergeBtn.addEventListener("click", () => runMacro("merge"));
  const left = document.createElement("div"); left.className = "col";
  left.append(controls, draw, macros);
  const right = document.createElement("div"); right.className = "col";
  const h2 = document.createElement("h2"); h2.textContent = "THE STACK OF SEGMENTS";
  right.append(h2, stack);
  const row = document.createElement("div"); row.className = "row";
  row.append(left, right);
  area.append(row);
  els = { draw, stack, pick };

  const choose = (s) => { segment = Math.max(0, Math.min(127, s)); pick.value = segment + 1; fromVoice(window.studio.voice); };
  pick.addEventListener("change", () => choose(Number(pick.value) - 1));
  let last = null;
  const at = (e) => {
    const r = draw.getBoundingClientRect();
    const i = Math.max(0, Math.min(SEG - 1, Math.floor(((e.clientX - r.left) / r.width) * SEG)));
    const v = Math.max(-128, Math.min(127, Math.round(127 - ((e.clientY - r.top) / r.height) * 255)));
    // Fill between the last point and this one, so a fast stroke leaves no gaps.
    if (last !== null && last[0] !== i) {
      const [i0, v0] = last, step = i > i0 ? 1 : -1;
      for (let k = i0; k !== i; k += step) levels[k] = Math.round(v0 + ((v - v0) * (k - i0)) / (i - i0));
    }
    levels[i] = v;
    last = [i, v];
    paint();
  };
  draw.addEventListener("pointerdown", (e) => { last = null; draw.setPointerCapture(e.pointerId); at(e); draw.dataset.drawing = "1"; });
  draw.addEventListener("pointermove", (e) => { if (draw.dataset.drawing) at(e); });
  draw.addEventListener("pointerup", () => { delete draw.dataset.drawing; last = null; });
  draw.addEventListener("keydown", (e) => {
    if (e.key === "]") choose(segment + 1);
    if (e.key === "[") choose(segment - 1);
  });
  apply.addEventListener("click", () => store().catch(() => {}));
  sine.addEventListener("click", () => { levels = levels.map((_, i) => Math.round(127 * Math.sin((2 * Math.PI * i) / SEG))); paint(); });
  zero.addEventListener("click", () => { levels = levels.map(() => 0); paint(); });
  hearBtn.addEventListener("click", () => hear(60, 1.0));
  if (studio.voice) update(studio.voice);
}

async function store() {
  setVoice(await api("/api/voice/segment", { segment, levels }));
  status(`SEGMENT ${segment + 1} STORED`);
}

export async function command(word, arg) {
  if (word === "STORE") { await store(); return true; }
  if (word === "SEG" || word === "SEGMENT") { segment = Math.max(0, Math.min(127, Number(arg) - 1)); update(window.studio.voice); return true; }
  return false;
}

function fromVoice(voice) {
  levels = voice.wave.slice(segment * SEG, (segment + 1) * SEG);
  paint();
  const p = voice.parameters;
  const count = p.mode === 1 ? 32 : 128;
  drawStack(els.stack, voice.wave, 0, count, {
    loop: p.loop_start_segment === null ? null : [p.loop_start_segment, p.loop_end_segment],
    start: segment, bits: voice.bits,
  });
}

export function update(voice) {
  if (!els || !els.draw.isConnected) return;
  els.pick.value = segment + 1;
  fromVoice(voice);
}

function paint() {
  const c = els.draw, g = clear(c);
  const W = c.logicalWidth, H = c.logicalHeight;
  g.strokeStyle = FAINT;
  g.beginPath(); g.moveTo(0, H / 2); g.lineTo(W, H / 2); g.stroke();
  g.fillStyle = GREEN;
  const w = W / SEG;
  levels.forEach((v, i) => {
    const y = H / 2 - (v / 128) * (H / 2);
    g.fillRect(i * w, Math.min(y, H / 2), Math.max(1, w - 1), Math.max(1, Math.abs(H / 2 - y)));
  });
  text(g, `SEGMENT ${segment + 1}`, 6, 16, GREEN, 13);
  text(g, "+127", W - 40, 14, DIM);
  text(g, "-128", W - 40, H - 4, DIM);
}
