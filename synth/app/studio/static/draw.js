// Drawing helpers shared by the pages: the phosphor colours, the stack of segments, a waveform.
export const GREEN = "#39ff6a";
export const DIM = "#169a3a";
export const FAINT = "#0b3d18";
export const SEG = 128;

export function canvas(width, height, cls = "") {
  const c = document.createElement("canvas");
  const scale = window.devicePixelRatio || 1;
  c.width = width * scale;
  c.height = height * scale;
  c.style.width = `${width}px`;
  c.style.height = `${height}px`;
  c.className = cls;
  c.getContext("2d").scale(scale, scale);
  c.logicalWidth = width;
  c.logicalHeight = height;
  return c;
}

export function clear(c) {
  const g = c.getContext("2d");
  g.fillStyle = "#000";
  g.fillRect(0, 0, c.logicalWidth, c.logicalHeight);
  return g;
}

export function text(g, s, x, y, color = DIM, size = 12) {
  g.fillStyle = color;
  g.font = `${size}px "DejaVu Sans Mono", monospace`;
  g.fillText(s, x, y);
}

// The CMI's waveform page: segments drawn one behind the other, each a little up and to the right.
export function drawStack(c, wave, first, count, { loop = null, start = null, bits = 8 } = {}) {
  const g = clear(c);
  const W = c.logicalWidth, H = c.logicalHeight;
  const dx = (W * 0.35) / count, dy = (H * 0.55) / count;
  const w = W * 0.62, h = H * 0.4;
  const full = 2 ** (bits - 1);
  for (let s = count - 1; s >= 0; s--) {
    const seg = first + s;
    const x0 = s * dx, y0 = H - h / 2 - 8 - s * dy;
    const inLoop = loop && seg >= loop[0] && seg <= loop[1];
    g.strokeStyle = seg === start ? "#c8ffd4" : inLoop ? GREEN : DIM;
    g.lineWidth = inLoop ? 1.2 : 0.8;
    g.beginPath();
    for (let i = 0; i < SEG; i++) {
      const v = wave[seg * SEG + i] / full;
      const x = x0 + (i / (SEG - 1)) * w, y = y0 - v * (h / 2);
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    }
    g.stroke();
  }
  text(g, `SEGMENTS ${first + 1}-${first + count}`, 4, 14);
  if (loop) text(g, `LOOP ${loop[0] + 1}-${loop[1] + 1}`, 4, 28, GREEN);
}

// The whole wave RAM as its peaks per segment, with the loop and the root marked (Page 8).
export function drawPeaks(c, peaks, { loop = null, start = 0, bits = 8 } = {}) {
  const g = clear(c);
  const W = c.logicalWidth, H = c.logicalHeight;
  const plotH = H - 18, mid = plotH / 2 + 2; // the bottom row holds the segment numbers
  const full = 2 ** (bits - 1);
  const w = W / peaks.length;
  if (loop) {
    g.fillStyle = FAINT;
    g.fillRect(loop[0] * w, 0, (loop[1] - loop[0] + 1) * w, plotH + 4);
    text(g, `LOOP ${loop[0] + 1}-${loop[1] + 1}`, loop[0] * w + 3, 14, GREEN);
  }
  g.fillStyle = GREEN;
  peaks.forEach(([lo, hi], s) => {
    const y1 = mid - (hi / full) * (plotH / 2 - 4), y2 = mid - (lo / full) * (plotH / 2 - 4);
    g.fillRect(s * w + 0.5, y1, Math.max(1, w - 1), Math.max(1, y2 - y1));
  });
  g.strokeStyle = DIM;
  for (let s = 0; s <= peaks.length; s += 8) {
    g.beginPath(); g.moveTo(s * w, H - 16); g.lineTo(s * w, H - 12); g.stroke();
    if (s < peaks.length) text(g, String(s + 1), s * w + 2, H - 2, DIM, 10);
  }
  if (start) { g.strokeStyle = "#c8ffd4"; g.beginPath(); g.moveTo(start * w, 0); g.lineTo(start * w, plotH); g.stroke(); }
}
