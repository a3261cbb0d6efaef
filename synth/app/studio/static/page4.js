// Page 4: harmonic profiles. Draw each harmonic's level across the 32 segments; COMPUTE makes the waveforms.
import { api, status } from "./api.js";
import { hear } from "./audio.js";
import { canvas, clear, drawStack, text, DIM, FAINT, GREEN } from "./draw.js";
import { setVoice } from "./studio.js";

export const TITLE = "HARMONIC PROFILES";
const NS = 32, NH = 32;
let profile = null; // profile[segment][harmonic - 1], 0..1
let volume = null; // the volume profile, a level a segment: drawn as harmonic 0
let harmonic = 1;
let els = null;

export function render(area, studio) {
  const draw = canvas(576, 288, "draw");
  draw.tabIndex = 0;
  draw.id = "page4-draw";
  draw.setAttribute("aria-label", "harmonic level over the 32 segments: drag to draw; [ and ] choose the harmonic");
  const overview = canvas(256, 256, "draw");
  overview.id = "page4-overview";
  overview.setAttribute("aria-label", "every harmonic: click a column to choose it");
  const stack = canvas(576, 250);
  stack.id = "page4-stack";
  const pick = Object.assign(document.createElement("input"), { type: "number", min: 0, max: NH, value: harmonic, id: "page4-harmonic", title: "1-32; 0: the volume profile" });
  const compute = Object.assign(document.createElement("button"), { textContent: "COMPUTE", id: "page4-compute" });
  const hearBtn = Object.assign(document.createElement("button"), { textContent: "HEAR", id: "page4-hear" });
  const clearBtn = Object.assign(document.createElement("button"), { textContent: "CLEAR HARMONIC" });
  const controls = document.createElement("div");
  controls.className = "row";
  const label = document.createElement("label");
  label.append("HARMONIC ", pick);
  controls.append(label, compute, hearBtn, clearBtn);
  const left = document.createElement("div"); left.className = "col";
  left.append(controls, draw, stack);
  const right = document.createElement("div"); right.className = "col side";
  const hint = document.createElement("p"); hint.className = "hint";
  hint.textContent = "DRAG ON THE GRAPH TO SET THE HARMONIC'S LEVEL IN EACH SEGMENT; HARMONIC 0 IS THE VOLUME PROFILE. COMPUTE BUILDS THE 32 WAVEFORMS.";
  const h2 = document.createElement("h2"); h2.textContent = "ALL HARMONICS (X) BY SEGMENT (Y)";
  right.append(h2, overview, hint);
  const row = document.createElement("div"); row.className = "row";
  row.append(left, right);
  area.append(row);
  els = { draw, overview, stack, pick };

  pick.addEventListener("change", () => { harmonic = clamp(Number(pick.value), 0, NH); paint(); });
  let drawing = false;
  const at = (e) => {
    const r = draw.getBoundingClientRect();
    const seg = clamp(Math.floor(((e.clientX - r.left) / r.width) * NS), 0, NS - 1);
    const level = clamp(1 - (e.clientY - r.top - 24 * r.height / 288) / ((r.height * 248) / 288), 0, 1);
    if (harmonic === 0) volume[seg] = Math.round(level * 100) / 100;
    else profile[seg][harmonic - 1] = Math.round(level * 100) / 100;
    paint();
  };
  draw.addEventListener("pointerdown", (e) => { drawing = true; draw.setPointerCapture(e.pointerId); at(e); });
  draw.addEventListener("pointermove", (e) => { if (drawing) at(e); });
  draw.addEventListener("pointerup", () => { drawing = false; });
  draw.addEventListener("keydown", (e) => {
    if (e.key === "]") { harmonic = Math.min(NH, harmonic + 1); pick.value = harmonic; paint(); }
    if (e.key === "[") { harmonic = Math.max(0, harmonic - 1); pick.value = harmonic; paint(); }
  });
  overview.addEventListener("click", (e) => {
    const r = overview.getBoundingClientRect();
    harmonic = clamp(Math.floor(((e.clientX - r.left) / r.width) * NH) + 1, 1, NH);
    pick.value = harmonic; paint();
  });
  compute.addEventListener("click", () => computeNow().catch(() => {}));
  hearBtn.addEventListener("click", () => hear(60, 1.2));
  clearBtn.addEventListener("click", () => {
    if (harmonic === 0) volume.fill(1); else profile.forEach((row) => (row[harmonic - 1] = 0));
    paint();
  });
  if (studio.voice) update(studio.voice);
}

async function computeNow() {
  const voice = await api("/api/voice/compute", { profile, volume });
  setVoice(voice);
  status("COMPUTED 32 SEGMENTS");
}

export async function command(word) {
  if (word === "COMPUTE") { await computeNow(); return true; }
  if (word === "HEAR") { hear(60, 1.2); return true; }
  return false;
}

export function update(voice) {
  profile = voice.profile.map((row) => row.slice());
  volume = voice.volume.slice();
  if (!els) return;
  paint();
  drawStack(els.stack, voice.wave, 0, NS, {
    loop: voice.parameters.loop_start_segment === null ? null
      : [voice.parameters.loop_start_segment, voice.parameters.loop_end_segment],
    bits: voice.bits,
  });
}

function paint() {
  if (!els || !profile || !els.draw.isConnected) return;
  const c = els.draw, g = clear(c);
  const W = c.logicalWidth, H = c.logicalHeight, top = 24, h = H - 40;
  const w = W / NS;
  g.strokeStyle = FAINT;
  for (let q = 0; q <= 4; q++) { const y = top + (h * q) / 4; g.beginPath(); g.moveTo(0, y); g.lineTo(W, y); g.stroke(); }
  g.fillStyle = GREEN;
  for (let s = 0; s < NS; s++) {
    const v = harmonic === 0 ? volume[s] : profile[s][harmonic - 1];
    g.fillRect(s * w + 2, top + h * (1 - v), w - 4, Math.max(1, h * v));
  }
  for (let s = 0; s < NS; s += 4) text(g, String(s + 1), s * w + 2, H - 3, DIM, 11);
  text(g, harmonic === 0 ? "VOLUME PROFILE  LEVEL BY SEGMENT" : `HARMONIC ${harmonic}  LEVEL BY SEGMENT`, 4, 16, GREEN, 13);
  const o = els.overview, go = clear(o);
  const cw = o.logicalWidth / NH, ch = o.logicalHeight / NS;
  for (let s = 0; s < NS; s++)
    for (let k = 0; k < NH; k++) {
      const v = profile[s][k];
      if (v < 0.01) continue;
      go.fillStyle = `rgba(57,255,106,${Math.sqrt(v).toFixed(3)})`;
      go.fillRect(k * cw, s * ch, cw - 1, ch - 1);
    }
  go.strokeStyle = "#c8ffd4";
  if (harmonic > 0) go.strokeRect((harmonic - 1) * cw, 0, cw, o.logicalHeight);
}

const clamp = (x, a, b) => Math.max(a, Math.min(b, x));
