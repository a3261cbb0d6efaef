// The keyboard: mouse on the keys, or the computer's keys while it has focus (tracker rows, as `live --keys`).
import { sendNote } from "./audio.js";

const LOWER = "zsxdcvgbhnjm"; // C3..B3
const UPPER = "q2w3er5t6y7u"; // C4..B4
const BLACK = new Set([1, 3, 6, 8, 10]);
let octave = 0; // shift in octaves from C3
const held = new Map();

export function buildKeyboard(el, first = 48, n = 37) {
  const whites = [];
  for (let k = first; k < first + n; k++) if (!BLACK.has(k % 12)) whites.push(k);
  const w = 100 / whites.length;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 20");
  svg.setAttribute("preserveAspectRatio", "none");
  const keys = new Map();
  const add = (k, x, width, height, cls) => {
    const r = document.createElementNS(ns, "rect");
    Object.entries({ x, y: 0, width, height }).forEach(([a, v]) => r.setAttribute(a, v));
    r.setAttribute("class", cls);
    r.setAttribute("vector-effect", "non-scaling-stroke");
    r.dataset.note = k;
    svg.appendChild(r);
    keys.set(k, r);
  };
  whites.forEach((k, i) => add(k, i * w, w, 20, "white"));
  for (let k = first; k < first + n; k++) {
    if (!BLACK.has(k % 12)) continue;
    const i = whites.indexOf(k - 1);
    add(k, (i + 1) * w - w * 0.3, w * 0.6, 12, "black");
  }
  el.replaceChildren(svg);
  const press = (k) => { if (held.has(k)) return; held.set(k, true); keys.get(k)?.classList.add("down"); sendNote("note_on", k, 100); };
  const lift = (k) => { if (!held.delete(k)) return; keys.get(k)?.classList.remove("down"); sendNote("note_off", k, 0); };
  let mouseKey = null;
  svg.addEventListener("pointerdown", (e) => {
    const k = Number(e.target.dataset.note);
    if (!k) return;
    el.focus();
    mouseKey = k; press(k);
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener("pointerup", () => { if (mouseKey !== null) lift(mouseKey); mouseKey = null; });
  const keyNote = (e) => {
    const c = e.key.toLowerCase();
    let i = LOWER.indexOf(c);
    if (i >= 0) return 48 + 12 * octave + i;
    i = UPPER.indexOf(c);
    if (i >= 0) return 60 + 12 * octave + i;
    return null;
  };
  el.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "-" || e.key === "ArrowDown") { octave = Math.max(-3, octave - 1); e.preventDefault(); return; }
    if (e.key === "=" || e.key === "ArrowUp") { octave = Math.min(3, octave + 1); e.preventDefault(); return; }
    const k = keyNote(e);
    if (k === null) return;
    e.preventDefault();
    e.stopPropagation();
    if (!e.repeat) press(k);
  });
  el.addEventListener("keyup", (e) => { const k = keyNote(e); if (k !== null) lift(k); });
  el.addEventListener("blur", () => { for (const k of [...held.keys()]) lift(k); });
}
