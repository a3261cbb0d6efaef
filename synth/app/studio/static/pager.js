// Page R: the Real Time Composer. Patterns of one bar on tracks A-H, the song list, speed and BPM.
import { api, status } from "./api.js";

export const TITLE = "REAL TIME COMPOSER";
const TRACKS = "ABCDEFGH";
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
const SPEED_BPM = 314160; // BPM = 314160 / speed
let song = { speed: 2618, grid: "1/16", metre: "4/4", song: "1", patterns: { 1: {} } };
let number = 1;
let cursor = [0, 0]; // track, step
let els = null;

const gridQuarters = (g) => { const [, v, t] = g.match(/^1\/(\d+)(T?)$/); return (4 / Number(v)) * (t ? 2 / 3 : 1); };
const barQuarters = (m) => { const [n, d] = m.split("/").map(Number); return (4 * n) / d; };
const pattern = () => (song.patterns[number] ??= {});
const nSteps = () => Math.round(barQuarters(pattern().metre || song.metre) / gridQuarters(pattern().grid || song.grid));
const noteName = (k) => `${NAMES[k % 12]}${Math.floor(k / 12) - 1}`;
function noteKey(text) {
  const t = String(text).trim().toUpperCase();
  if (/^\d+$/.test(t)) return Number(t);
  const m = t.match(/^([A-G])(#|B)?(-?\d)$/);
  if (!m) return null;
  return NAMES.indexOf(m[1]) + (m[2] === "#" ? 1 : m[2] === "B" ? -1 : 0) + 12 * (Number(m[3]) + 1);
}

function cells(letter) {
  const text = pattern()[letter];
  const n = nSteps();
  const tokens = text ? text.split(/[\s|]+/).filter(Boolean) : [];
  while (tokens.length < n) tokens.push(".");
  return tokens.slice(0, n);
}
function setCells(letter, tokens) {
  if (tokens.every((t) => t === ".")) { delete pattern()[letter]; return; }
  const groups = [];
  for (let i = 0; i < tokens.length; i += 4) groups.push(tokens.slice(i, i + 4).join(" "));
  pattern()[letter] = groups.join(" | ");
}

function field(label, props) {
  const l = document.createElement("label");
  const input = Object.assign(document.createElement(props.tag || "input"), props);
  l.append(label, input);
  return [l, input];
}

export function render(area) {
  const top = document.createElement("div"); top.className = "row";
  const [lp, pick] = field("PATTERN ", { type: "number", min: 1, max: 255, value: number, id: "pager-pattern" });
  const [ln, note] = field("NOTE ", { value: "C4", size: 4, id: "pager-note" });
  const [lv, vel] = field("VEL ", { type: "number", min: 1, max: 127, value: 100, id: "pager-velocity" });
  const [lg, grid] = field("GRID ", { tag: "select", id: "pager-grid" });
  ["1/4", "1/8", "1/16", "1/32", "1/4T", "1/8T", "1/16T"].forEach((g) => grid.append(new Option(g, g)));
  const [lm, metre] = field("METRE ", { value: "4/4", size: 5, id: "pager-metre" });
  top.append(lp, ln, lv, lg, lm);
  const table = document.createElement("table");
  table.className = "grid";
  table.id = "pager-grid-table";
  table.tabIndex = 0;
  table.setAttribute("aria-label", "the pattern: arrows move, Enter sets the note, - a tie, Delete a rest");
  const songRow = document.createElement("div"); songRow.className = "row";
  const [ls, list] = field("SONG LIST ", { value: song.song, size: 24, id: "pager-song", title: "steps: N, NxR or a section letter" });
  const [lsp, speed] = field("SPEED ", { type: "number", min: 500, max: 65535, value: song.speed, id: "pager-speed" });
  const [lb, bpm] = field("BPM ", { type: "number", min: 4.8, max: 628.3, step: 0.1, value: (SPEED_BPM / song.speed).toFixed(1), id: "pager-bpm" });
  const [lsec, sections] = field("SECTIONS ", { value: "", size: 28, id: "pager-sections", spellcheck: false,
                                                title: "A=1 2x2; B=3 A: up to 8 steps each, named A-Z" });
  songRow.append(ls, lsec, lsp, lb);
  const playRow = document.createElement("div"); playRow.className = "row";
  const [lf, from] = field("FROM STEP ", { type: "number", min: 1, max: 255, value: 1, id: "pager-from" });
  const btn = (t, id) => Object.assign(document.createElement("button"), { textContent: t, id });
  const play = btn("PLAY", "pager-play"), loop = btn("LOOP PATTERN", "pager-loop"), stop = btn("STOP", "pager-stop");
  const [lname, name] = field("SONG NAME ", { value: "song", size: 14, id: "pager-name", spellcheck: false });
  const save = btn("SAVE SONG", "pager-save");
  const [lr, replace] = field(" REPLACE", { type: "checkbox", id: "pager-replace" });
  const [ll, load] = field("LOAD ", { tag: "select", id: "pager-load" });
  playRow.append(lf, play, loop, stop, lname, save, lr, ll);
  const info = document.createElement("p"); info.className = "hint"; info.id = "pager-info";
  const steps = document.createElement("p"); steps.id = "pager-steps";
  area.append(top, table, songRow, steps, playRow, info);
  els = { table, pick, grid, metre, list, speed, bpm, note, vel, info, load, from, name, replace, steps, sections };
  sections.addEventListener("change", () => { readSections(); showSteps(); });

  pick.addEventListener("change", () => { number = Math.max(1, Math.min(255, Number(pick.value) || 1)); paint(); });
  grid.addEventListener("change", () => { pattern().grid = grid.value; if (number === 1) song.grid = grid.value; paint(); });
  metre.addEventListener("change", () => { pattern().metre = metre.value; paint(); });
  list.addEventListener("change", () => { song.song = list.value.trim(); showSteps(); });
  speed.addEventListener("change", () => { song.speed = Number(speed.value); delete song.bpm; bpm.value = (SPEED_BPM / song.speed).toFixed(1); showSteps(); });
  bpm.addEventListener("change", () => { song.speed = Math.round(SPEED_BPM / Number(bpm.value)); delete song.bpm; speed.value = song.speed; showSteps(); });
  table.addEventListener("click", (e) => {
    const td = e.target.closest("td[data-step]");
    if (!td) return;
    cursor = [Number(td.dataset.track), Number(td.dataset.step)];
    put(e.shiftKey ? "-" : "note");
  });
  table.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (moves[e.key]) {
      const [dt, ds] = moves[e.key];
      cursor = [(cursor[0] + dt + 8) % 8, (cursor[1] + ds + nSteps()) % nSteps()];
      paint(); e.preventDefault();
    } else if (e.key === "Enter" || e.key === " ") { put("note"); e.preventDefault(); }
    else if (e.key === "-") { put("-"); e.preventDefault(); }
    else if (e.key === "Delete" || e.key === "Backspace" || e.key === ".") { put("."); e.preventDefault(); }
    e.stopPropagation();
  });
  play.addEventListener("click", () => start({ from_step: Number(from.value) - 1 }).catch(() => {}));
  loop.addEventListener("click", () => start({ loop_pattern: number }).catch(() => {}));
  stop.addEventListener("click", () => api("/api/song/stop", {}).then(() => status("STOPPED")));
  save.addEventListener("click", async () => {
    const r = await api("/api/song/save", { name: name.value.toLowerCase(), song: current(), replace: replace.checked }).catch(() => null);
    if (r) { status(`SONG SAVED ${r.file}`); refreshSongs(); }
  });
  load.addEventListener("change", async () => {
    if (!load.value) return;
    const r = await api("/api/song/load", { name: load.value }).catch(() => null);
    if (!r) return;
    song = r.song; number = Number(Object.keys(song.patterns)[0] || 1);
    name.value = r.name; syncFields(); paint(); showSteps(); status(`SONG LOADED ${r.name}`);
  });
  syncFields();
  paint();
  refreshSongs();
}

function readSections() {
  const out = {};
  for (const part of els.sections.value.split(";")) {
    const [letter, steps] = part.split("=").map((t) => (t || "").trim());
    if (letter && steps) out[letter.toUpperCase()] = steps;
  }
  if (Object.keys(out).length) song.sections = out; else delete song.sections;
}

function current() {
  song.song = els.list.value.trim();
  readSections();
  return song;
}

async function start(how) {
  const r = await api("/api/song/play", { song: current(), ...how });
  status(how.loop_pattern ? `LOOPING PATTERN ${how.loop_pattern}` : `PLAYING FROM STEP ${(how.from_step || 0) + 1}`);
  els.info.textContent = `${r.n_events} EVENTS AT ${r.rate_hz} HZ, ${(SPEED_BPM / song.speed).toFixed(2)} BPM`;
}

export async function command(word, arg) {
  if (word === "PLAY") { await start({ from_step: arg ? Number(arg) - 1 : 0 }); return true; }
  if (word === "LOOP") { await start({ loop_pattern: arg ? Number(arg) : number }); return true; }
  if (word === "STOP") { await api("/api/song/stop", {}); status("STOPPED"); return true; }
  return false;
}

// The song list as the sequencer plays it: each step, its bars and when it starts.
async function showSteps() {
  const r = await api("/api/song/check", { song: current() }, { quiet: true });
  if (r.error) { els.steps.textContent = `SONG LIST: ${r.error}`; return; }
  els.steps.textContent = "SONG  " + r.steps.map((s) => `${s.step}:${s.entry} @${s.start_s.toFixed(2)}S`).join("  ");
}

async function refreshSongs() {
  const r = await api("/api/songs");
  els.load.replaceChildren(new Option("—", ""), ...r.songs.map((n) => new Option(n, n)));
}

function syncFields() {
  els.list.value = song.song;
  els.sections.value = Object.entries(song.sections || {}).map(([k, v]) => `${k}=${v}`).join("; ");
  els.speed.value = song.speed;
  els.bpm.value = (SPEED_BPM / song.speed).toFixed(1);
  els.pick.value = number;
}

function put(what) {
  const [t, s] = cursor;
  const letter = TRACKS[t];
  const tokens = cells(letter);
  if (what === "note") {
    const key = noteKey(els.note.value);
    if (key === null) { status(`NOT A NOTE: ${els.note.value}`, true); return; }
    const v = Number(els.vel.value);
    const token = noteName(key) + (v !== 100 ? `:${v}` : "");
    tokens[s] = tokens[s] === token ? "." : token;
  } else tokens[s] = what;
  setCells(letter, tokens);
  paint();
}

function paint() {
  if (!els) return;
  const n = nSteps();
  els.grid.value = pattern().grid || song.grid;
  els.metre.value = pattern().metre || song.metre;
  const head = `<tr><th></th>${Array.from({ length: n }, (_, i) => `<th>${i + 1}</th>`).join("")}</tr>`;
  const rows = [...TRACKS].map((letter, t) => {
    const tokens = cells(letter);
    return `<tr><th>${letter}</th>${tokens.map((tok, s) => {
      const cls = [tok !== "." ? "on" : "", t === cursor[0] && s === cursor[1] ? "cursor" : ""].join(" ");
      const shown = tok === "." ? "·" : tok.split(/[:/]/)[0];
      return `<td class="${cls}" data-track="${t}" data-step="${s}">${shown}</td>`;
    }).join("")}</tr>`;
  });
  els.table.innerHTML = head + rows.join("");
}
