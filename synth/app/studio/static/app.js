// The studio's shell: the pages chosen by letter or number, the voice bar, the command line, the sound.
import { api, status } from "./api.js";
import { startSound, sound } from "./audio.js";
import { buildKeyboard } from "./keyboard.js";
import * as page3 from "./page3.js";
import * as page4 from "./page4.js";
import * as paged from "./paged.js";
import * as page7 from "./page7.js";
import * as page8 from "./page8.js";
import * as pager from "./pager.js";
import { onVoice, setVoice, studio } from "./studio.js";

const PAGES = { "3": page3, "4": page4, D: paged, "7": page7, "8": page8, R: pager };
window.studio = studio;

onVoice((voice) => {
  document.getElementById("voice-title").textContent = `VOICE ${voice.name}  MODE ${voice.parameters.mode}`;
  document.getElementById("voice-name").value = voice.name;
  PAGES[studio.page].update?.(voice);
});

async function refreshState() {
  studio.state = await api("/api/state");
  const select = document.getElementById("voice-load");
  const current = select.value;
  select.replaceChildren(new Option("—", ""), ...studio.state.voices.map((n) => new Option(n, n)));
  select.value = current && studio.state.voices.includes(current) ? current : "";
  return studio.state;
}
studio.refreshState = refreshState;

export function showPage(key) {
  key = String(key).toUpperCase();
  const page = PAGES[key];
  if (!page) { status(`NO PAGE ${key}`, true); return; }
  studio.page = key;
  document.querySelectorAll("#pages button").forEach((b) => b.setAttribute("aria-current", b.dataset.page === key ? "page" : "false"));
  document.getElementById("page-title").textContent = `PAGE ${key}  ${page.TITLE}`;
  const area = document.getElementById("area");
  area.replaceChildren();
  page.render(area, studio);
  if (studio.voice) page.update?.(studio.voice);
  history.replaceState(null, "", `#${key}`);
}
studio.showPage = showPage;

async function command(text) {
  const [word, ...rest] = text.trim().split(/\s+/);
  const arg = rest.join(" ");
  const w = (word || "").toUpperCase();
  if (PAGES[w]) return showPage(w);
  if (w === "PAGE" && PAGES[arg.toUpperCase()]) return showPage(arg);
  if (w === "SAVE") return saveVoice(arg || document.getElementById("voice-name").value);
  if (w === "LOAD") { setVoice(await api("/api/voice/load", { name: arg.toLowerCase() })); return status(`LOADED ${arg}`); }
  const handled = await PAGES[studio.page].command?.(w, arg);
  if (!handled) status(`? ${text}`, true);
}

async function saveVoice(name) {
  const replace = document.getElementById("voice-replace").checked;
  const r = await api("/api/voice/save", { name, replace });
  status(`SAVED ${r.saved} (${r.file})`);
  await refreshState();
  setVoice(await api("/api/voice"));
}

function wire() {
  document.querySelectorAll("#pages button").forEach((b) => b.addEventListener("click", () => showPage(b.dataset.page)));
  document.getElementById("voice-save").addEventListener("click", () =>
    saveVoice(document.getElementById("voice-name").value).catch(() => {}));
  document.getElementById("voice-load").addEventListener("change", async (e) => {
    if (!e.target.value) return;
    setVoice(await api("/api/voice/load", { name: e.target.value }));
    status(`LOADED ${e.target.value}`);
  });
  document.getElementById("output").addEventListener("change", async (e) => {
    const r = await api("/api/output", { output: e.target.value }, { quiet: true });
    if (r.error) { e.target.value = "browser"; return; }
    status(r.output === "card" ? `SOUND CARD: ${r.device}` : "SOUND IN THE BROWSER");
    if (r.output === "browser" && sound.ws) { sound.ws.close(); sound.ws = null; }
    if (r.output === "browser") startSound();
  });
  const undo = async () => {
    const voice = await api("/api/voice/undo", {}).catch(() => null);
    if (voice) { setVoice(voice); status("UNDONE"); }
  };
  document.getElementById("undo").addEventListener("click", undo);
  const rec = document.getElementById("record");
  rec.addEventListener("click", async () => {
    const on = rec.dataset.on !== "1";
    const r = await api("/api/recording", { action: on ? "start" : "stop" }).catch(() => null);
    if (!r) return;
    rec.dataset.on = on ? "1" : "";
    rec.textContent = on ? "STOP RECORDING" : "RECORD";
    status(on ? "RECORDING" : "RECORDED: DOWNLOADING THE WAV");
    if (!on) Object.assign(document.createElement("a"), { href: "/api/recording.wav", download: "studio-take.wav" }).click();
  });
  const cmd = document.getElementById("command");
  cmd.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { command(cmd.value).catch(() => {}); cmd.value = ""; }
    if (e.key === "Escape") cmd.blur();
  });
  // A page by its key, as on the CMI, when no field has the focus (Alt+key works everywhere).
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t.id === "keyboard";
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z" && !typing) { e.preventDefault(); undo(); return; }
    if (e.ctrlKey || e.metaKey || (typing && !e.altKey)) return;
    const key = e.key.toUpperCase();
    if (PAGES[key]) { e.preventDefault(); showPage(key); }
    else if (key === "/" || key === ":") { e.preventDefault(); cmd.focus(); }
    else if (key === "K") { e.preventDefault(); document.getElementById("keyboard").focus(); }
  });
}

async function main() {
  // The token came in the URL; the server has put it in a cookie: keep it out of the history.
  if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", `/${location.hash}`);
  wire();
  buildKeyboard(document.getElementById("keyboard"));
  await refreshState();
  studio.voice = await api("/api/voice");
  const start = (location.hash.slice(1) || "4").toUpperCase();
  showPage(PAGES[start] ? start : "4");
  setVoice(studio.voice);
  startSound();
  status("READY");
  document.body.dataset.ready = "1";
}
main();
