// The AudioWorklet that plays the blocks the server streams: interleaved stereo float32, queued.
class StreamPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = [];
    this.offset = 0; // frames of queue[0] already played
    this.buffered = 0; // frames waiting
    this.played = 0;
    this.maxFrames = sampleRate * 0.5; // more than half a second waiting: drop the oldest (a choice)
    this.port.onmessage = (e) => {
      const block = new Float32Array(e.data);
      this.queue.push(block);
      this.buffered += block.length / 2;
      while (this.buffered > this.maxFrames && this.queue.length > 1) {
        const old = this.queue.shift();
        this.buffered -= old.length / 2 - this.offset;
        this.offset = 0;
      }
    };
  }
  process(inputs, outputs) {
    const [left, right] = outputs[0];
    let i = 0;
    while (i < left.length && this.queue.length) {
      const block = this.queue[0];
      const n = Math.min(left.length - i, block.length / 2 - this.offset);
      for (let k = 0; k < n; k++) {
        left[i + k] = block[2 * (this.offset + k)];
        if (right) right[i + k] = block[2 * (this.offset + k) + 1];
      }
      i += n;
      this.offset += n;
      this.buffered -= n;
      if (this.offset * 2 >= block.length) { this.queue.shift(); this.offset = 0; }
    }
    for (; i < left.length; i++) { left[i] = 0; if (right) right[i] = 0; }
    this.played += left.length;
    if ((this.played & 0x3fff) < left.length) this.port.postMessage({ played: this.played });
    return true;
  }
}
registerProcessor("stream-player", StreamPlayer);
