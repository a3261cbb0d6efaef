// Sound streamed from the server: a WebSocket of blocks into an AudioWorklet; notes go back on it.
import { status } from "./api.js";

export const sound = { ctx: null, node: null, ws: null, framesReceived: 0, framesPlayed: 0, rate: 0 };
window.studioSound = sound;

export async function startSound() {
  if (sound.ws) return;
  if (!sound.ctx) {
    const ctx = new AudioContext({ latencyHint: "interactive" });
    sound.ctx = ctx;
    sound.rate = ctx.sampleRate;
    try {
      await ctx.audioWorklet.addModule("/static/worklet.js");
      sound.node = new AudioWorkletNode(ctx, "stream-player", { outputChannelCount: [2] });
      sound.node.connect(ctx.destination);
      sound.node.port.onmessage = (e) => { sound.framesPlayed = e.data.played; };
    } catch (err) {
      status(`NO AUDIO WORKLET: ${err}`, true);
    }
    const resume = () => { if (ctx.state !== "running") ctx.resume().then(setTitle); };
    document.addEventListener("pointerdown", resume);
    document.addEventListener("keydown", resume);
    resume();
  }
  const ctx = sound.ctx;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/audio?rate=${ctx.sampleRate}`);
  ws.binaryType = "arraybuffer";
  sound.ws = ws;
  ws.onmessage = (e) => {
    if (typeof e.data === "string") {
      const msg = JSON.parse(e.data);
      if (msg.type === "error") status(msg.error, true);
      return;
    }
    sound.framesReceived += e.data.byteLength / 8;
    if (sound.node) sound.node.port.postMessage(e.data, [e.data]);
  };
  ws.onopen = () => setTitle();
  ws.onclose = (e) => {
    if (sound.ws === ws) sound.ws = null;
    setTitle();
    // The stream went away (the server restarted its feed, a network hiccup): try again, unless the
    // server refused us (1008: the token or the origin) or the sound went to the sound card.
    if (e.code !== 1008 && document.getElementById("output").value === "browser") setTimeout(startSound, 1000);
  };
}

function setTitle() {
  const el = document.getElementById("sound-title");
  if (!sound.ws || sound.ws.readyState !== WebSocket.OPEN) el.textContent = "SOUND OFF";
  else el.textContent = `SOUND ${sound.ctx && sound.ctx.state === "running" ? "ON" : "HELD"} ${sound.rate} HZ`;
}

export function sendNote(type, note, velocity = 100) {
  const msg = JSON.stringify({ type, note, velocity });
  if (sound.ws && sound.ws.readyState === WebSocket.OPEN) sound.ws.send(msg);
  else fetch("/api/note", { method: "POST", credentials: "same-origin",
                            headers: { "Content-Type": "application/json" }, body: msg });
}

// A note for a while: the HEAR buttons.
export function hear(note = 60, seconds = 1.0) {
  sendNote("note_on", note, 100);
  setTimeout(() => sendNote("note_off", note, 0), seconds * 1000);
}
