"""The studio's sound: one feed of the engine, played to the page over a WebSocket or to the sound card.

The feed handles the keyboard's notes at the start of the next block and a song's events on their
exact frames (as an offline render does), and can keep what it played for the tests and the page's
RECORD. Either the browser stream pulls its blocks (server-paced: the server renders a little ahead
of the wall clock and the page's AudioWorklet buffers them), or synth.live's Player does, with the
feed as its feed, exactly as `liquidsky play` plays a file.
"""

from __future__ import annotations

import collections
import threading

import mido
import numpy as np

from synth import live
from synth.live import Inbox
from synth.midi import CC, N_CHANNELS

BLOCK_FRAMES = 1024  # 21 ms at 48 kHz: the stream's unit; small enough to play a key promptly
MAX_RECORD_S = 600  # the recording keeps at most ten minutes (a choice; 230 MB at 48 kHz stereo float32)


class StudioFeed:
    """The engine, fed by an Inbox (keys) and a schedule (a song); `fill` renders one block (Player's feed)."""

    def __init__(self, engine, inbox: Inbox | None = None) -> None:
        self.engine = engine
        self.inbox = inbox or Inbox()
        self.expected_frames = 0
        self.n_late = 0  # the page's keys sound at the start of the next block: never late
        self._finished = False
        self._lock = threading.Lock()
        self._schedule: collections.deque[tuple[int, mido.Message]] = collections.deque()
        self.song_start_frame: int | None = None
        self._recording: list[np.ndarray] | None = None
        self._last = np.zeros((0, 2), dtype=np.float32)
        self.record_start_frame = 0
        self.n_frames = 0
        # Page 3's NPHONY (synth.nphony.PolyphonyLimit) or anything that maps a message to the
        # messages to play; every message passes through it, keys and songs alike.
        self.limit = lambda message: [message]

    @property
    def rate_hz(self) -> int:
        return self.engine.rate_hz

    def finish(self) -> None:
        self._finished = True

    def follow_card_clock(self, clock, delay_frames: int) -> None:
        """The studio plays its keys at the start of the next block: it has no use for the clock."""

    # --- what to play ---------------------------------------------------------------------------

    def play_events(self, events, start_delay_frames: int = 0) -> int:
        """Play (frame, message) events from the next block on (plus a delay); returns their frame 0."""
        with self._lock:
            self._schedule.clear()
            start = self.engine.frame + start_delay_frames
            self._schedule.extend((start + int(frame), msg) for frame, msg in events)
            self.song_start_frame = start
        return start

    def stop_events(self) -> None:
        """Drop what is scheduled and release every note (All Notes Off on every channel)."""
        with self._lock:
            self._schedule.clear()
            self.song_start_frame = None
        for channel in range(N_CHANNELS):
            self.inbox.put(mido.Message("control_change", channel=channel, control=CC.ALL_NOTES_OFF, value=0))

    @property
    def playing_song(self) -> bool:
        return bool(self._schedule)

    # --- recording ------------------------------------------------------------------------------

    def start_recording(self) -> None:
        with self._lock:
            self._recording = []
            self.record_start_frame = self.engine.frame

    def stop_recording(self) -> np.ndarray:
        """End the recording; returns it, and keeps it as `recording()` until the next one starts."""
        with self._lock:
            blocks, self._recording = self._recording, None
            self._last = np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.float32)
        return self._last

    def recording(self) -> np.ndarray:
        """What was played since start_recording (or the last recording, once stopped), float32 (n, 2)."""
        with self._lock:
            if self._recording is None:
                return self._last
            blocks = list(self._recording)
        return np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.float32)

    # --- rendering ------------------------------------------------------------------------------

    def fill(self, out: np.ndarray) -> int:
        """Render len(out) frames into out: keys at the block's start, scheduled events on their frames."""
        if self._finished:
            return 0
        engine = self.engine
        limit = self.limit
        for _, message in self.inbox.drain():
            for m in limit(message):
                engine.handle(m)
        n = out.shape[0]
        done = 0
        with self._lock:
            while done < n:
                end = engine.frame + (n - done)
                while self._schedule and self._schedule[0][0] <= engine.frame:
                    for m in limit(self._schedule.popleft()[1]):
                        engine.handle(m)
                upto = self._schedule[0][0] if self._schedule and self._schedule[0][0] < end else end
                k = upto - engine.frame
                out[done:done + k] = engine.render(k)
                done += k
            if self._recording is not None and len(self._recording) * n < MAX_RECORD_S * engine.rate_hz:
                self._recording.append(out.copy())
        self.n_frames += n
        return n

    def next_block(self, n_frames: int = BLOCK_FRAMES) -> np.ndarray:
        block = np.zeros((n_frames, 2), dtype=np.float32)
        self.fill(block)
        return block


class CardOutput:
    """The feed played on the sound card through synth.live's Player, in a thread of its own."""

    def __init__(self, feed: StudioFeed, sd, device, block_frames: int = 256) -> None:
        self.feed = feed
        self.device = device
        self.player = live.Player(feed, rate_hz=feed.rate_hz, block_frames=block_frames,
                                  ring_blocks=live.RING_BLOCKS_LIVE)
        self.error: BaseException | None = None
        self._sd = sd
        self._thread = threading.Thread(target=self._run, name="liquidsky-studio-card", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.player.run(self._sd, self.device.index)
        except BaseException as e:  # reported by the session's status
            self.error = e

    def stop(self) -> None:
        self.feed.finish()
        self._thread.join(timeout=5)


def open_card(command: str = "studio", device: str | None = None):
    """(sounddevice, the output device, its rate), or synth.live.LiveError saying what is missing."""
    sd = live.import_sounddevice(command)
    dev = live.choose_output(sd, device)
    return sd, dev, dev.default_rate_hz
