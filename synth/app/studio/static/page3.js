// Page 3: the registers A-H, each the voice a channel (and a Page R track) plays, with its polyphony.
import { api, status } from "./api.js";

export const TITLE = "KEYBOARD CONTROL";
let els = null;

export function render(area, studio) {
  const table = document.createElement("table");
  table.id = "page3-registers";
  table.innerHTML = "<tr><th>REGISTER</th><th>CHANNEL</th><th>VOICE</th><th>NPHONY</th></tr>";
  const rows = [];
  const state = studio.state;
  state.registers.forEach((r, i) => {
    const tr = document.createElement("tr");
    const voice = document.createElement("select");
    voice.id = `page3-voice-${r.letter}`;
    state.voices.forEach((n) => voice.append(new Option(n, n)));
    voice.value = r.voice;
    const poly = Object.assign(document.createElement("input"), { type: "number", min: 0, max: state.n_cards, value: r.polyphony, id: `page3-poly-${r.letter}` });
    const cells = [r.letter, String(i + 1)].map((t) => Object.assign(document.createElement("td"), { textContent: t }));
    const tv = document.createElement("td"); tv.append(voice);
    const tp = document.createElement("td"); tp.append(poly);
    tr.append(...cells, tv, tp);
    table.append(tr);
    rows.push({ voice, poly });
  });
  const total = document.createElement("p"); total.id = "page3-total";
  const apply = Object.assign(document.createElement("button"), { textContent: "SET REGISTERS", id: "page3-apply" });
  const hint = document.createElement("p"); hint.className = "hint";
  hint.textContent = "REGISTER A PLAYS MIDI CHANNEL 1 AND PAGE R TRACK 1, B CHANNEL 2 ... THE KEYBOARD BELOW PLAYS THE VOICE BEING EDITED.";
  area.append(table, total, apply, hint);
  const count = () => {
    const n = rows.reduce((a, r) => a + Number(r.poly.value || 0), 0);
    total.textContent = `VOICES ASKED ${n} OF ${state.n_cards} CARDS`;
    total.style.color = n > state.n_cards ? "#ff6a5a" : "";
  };
  rows.forEach((r) => r.poly.addEventListener("input", count));
  count();
  apply.addEventListener("click", async () => {
    const registers = rows.map((r) => ({ voice: r.voice.value, polyphony: Number(r.poly.value) }));
    const s = await api("/api/registers", { registers }).catch(() => null);
    if (s) { studio.state = s; status("REGISTERS SET"); }
  });
  els = { rows };
}
