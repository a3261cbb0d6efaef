// Page 8: sampling. Load a recording (sampled as `voice import` does), see it, set root and loop, save.
import { api, status } from "./api.js";
import { hear } from "./audio.js";
import { canvas, drawPeaks } from "./draw.js";
import { setVoice } from "./studio.js";

export const TITLE = "SAMPLING";
let els = null;

export function render(area, studio) {
  const file = Object.assign(document.createElement("input"), { type: "file", accept: "audio/*,.wav,.flac", id: "page8-file" });
  const root = Object.assign(document.createElement("input"), { value: "60", size: 5, id: "page8-root", title: "a MIDI note 0-127, or AUTO" });
  const loop = Object.assign(document.createElement("input"), { value: "none", size: 9, id: "page8-loop", title: "NONE, AUTO or START:END in segments 1-128" });
  const normalize = Object.assign(document.createElement("input"), { type: "checkbox", id: "page8-normalize" });
  const rate = Object.assign(document.createElement("input"), { type: "number", value: 30200, min: 4000, max: 100000, step: 100, id: "page8-rate" });
  const fit = document.createElement("select"); fit.id = "page8-fit";
  [["rate", "LOWER THE RATE"], ["truncate", "CUT THE END"]].forEach(([v, t]) => fit.append(new Option(t, v)));
  const load = Object.assign(document.createElement("button"), { textContent: "SAMPLE", id: "page8-sample" });
  const controls = document.createElement("div"); controls.className = "row";
  const mk = (text, input) => { const l = document.createElement("label"); l.append(text, input); return l; };
  controls.append(mk("FILE ", file), mk("ROOT ", root), mk("LOOP ", loop), mk("RATE HZ ", rate),
                  mk("TOO LONG: ", fit), mk("NORMALIZE ", normalize), load);
  const wave = canvas(1100, 240);
  wave.id = "page8-wave";
  const set = document.createElement("div"); set.className = "row";
  const rootKey = Object.assign(document.createElement("input"), { type: "number", min: 0, max: 127, id: "page8-rootkey" });
  const ls = Object.assign(document.createElement("input"), { type: "number", min: 0, max: 128, id: "page8-loopstart" });
  const le = Object.assign(document.createElement("input"), { type: "number", min: 0, max: 128, id: "page8-loopend" });
  const apply = Object.assign(document.createElement("button"), { textContent: "SET ROOT AND LOOP", id: "page8-apply" });
  const hearBtn = Object.assign(document.createElement("button"), { textContent: "HEAR" });
  set.append(mk("ROOT KEY ", rootKey), mk("LOOP START SEG ", ls), mk("LOOP END SEG ", le), apply, hearBtn);
  const info = document.createElement("p"); info.className = "hint"; info.id = "page8-info";
  info.textContent = "A RECORDING IS MIXED TO MONO, SAMPLED AT 30,200 HZ IN 8 BITS, AT MOST 16,384 SAMPLES. DROP A FILE HERE.";
  area.append(controls, wave, set, info);
  els = { wave, rootKey, ls, le, info };

  const upload = async (blob) => {
    const q = new URLSearchParams({ name: (document.getElementById("voice-name").value || "sample").toLowerCase(),
                                    root: root.value.toLowerCase(), loop: loop.value.toLowerCase(),
                                    rate: rate.value, fit: fit.value, normalize: normalize.checked ? "1" : "0" });
    const voice = await api(`/api/page8/import?${q}`, blob);
    setVoice(voice);
    const r = voice.report;
    info.textContent = `SAMPLED ${r.n_used} SAMPLES AT ${r.rate_hz} HZ${r.fitted ? ` (FITTED BY ${r.fitted})` : ""}, PEAK ${r.peak_dbfs.toFixed(1)} DBFS, ROOT ${r.root}`;
    status("SAMPLED");
  };
  load.addEventListener("click", () => { if (file.files[0]) upload(file.files[0]).catch(() => {}); else status("CHOOSE A FILE", true); });
  wave.addEventListener("dragover", (e) => e.preventDefault());
  wave.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]).catch(() => {}); });
  apply.addEventListener("click", async () => {
    const start = Number(ls.value), end = Number(le.value);
    const loopSet = start > 0 && end > 0;
    const voice = await api("/api/voice/parameters", { parameters: {
      root_key: Number(rootKey.value), loop_start_segment: loopSet ? start - 1 : null, loop_end_segment: loopSet ? end - 1 : null,
    } }).catch(() => null);
    if (voice) { setVoice(voice); status("ROOT AND LOOP SET"); }
  });
  hearBtn.addEventListener("click", () => hear(Number(rootKey.value) || 60, 1.0));
  if (studio.voice) update(studio.voice);
}

export function update(voice) {
  if (!els || !els.wave.isConnected) return;
  const p = voice.parameters;
  els.rootKey.value = p.root_key;
  els.ls.value = p.loop_start_segment === null ? "" : p.loop_start_segment + 1;
  els.le.value = p.loop_end_segment === null ? "" : p.loop_end_segment + 1;
  drawPeaks(els.wave, voice.peaks, {
    loop: p.loop_start_segment === null ? null : [p.loop_start_segment, p.loop_end_segment],
    start: p.start_segment, bits: voice.bits,
  });
}
