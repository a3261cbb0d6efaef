"""Real-time playback: a render thread fills a ring of preallocated blocks that the audio callback copies out."""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mido
import numpy as np

from synth import card
from synth.offline import last_event_frame, render_events

if TYPE_CHECKING:
    from synth.sinks import AudioFileWriter

DEFAULT_BLOCK_FRAMES = 256  # 5.3 ms at 48 kHz: the block the issue measures, and JACK's usual period

# Blocks rendered ahead of the callback. A file has no latency to keep low, so it gets a cushion of
# 8 blocks (43 ms at 256 frames and 48 kHz) against a render thread the scheduler delays; live
# input gets 2, the least that lets the thread render one block while the callback copies the other.
RING_BLOCKS_PLAY = 8
RING_BLOCKS_LIVE = 2

# How often the render thread looks for a free block, as a fraction of a block period. The callback
# may not signal (that takes a lock), so the thread polls; a quarter period keeps it well ahead of
# the callback at a few hundred wake-ups a second.
POLL_FRACTION = 0.25

# While a stream runs, a thread holding the GIL is asked to hand it over after 1 ms instead of
# Python's 5 ms, which is about one whole 256-frame block at 48 kHz (a choice, restored afterwards).
SWITCH_INTERVAL_S = 0.001

# The render thread asks for the lowest real-time priority (SCHED_FIFO 1) where allowed (root, or
# an rtprio limit as the audio group has): above every ordinary task, below the audio server's own
# threads. While it holds the GIL the callback waits for it, so it must not be preempted by a
# compiler or a browser for a scheduler slice of several ms. Without the right it runs as before.
RENDER_RT_PRIORITY = 1

# Per-block timings kept for the report: 2**16 blocks is 5.8 minutes at 256 frames and 48 kHz;
# later blocks overwrite the oldest (the percentiles then describe the last 5.8 minutes).
TIMING_SLOTS = 1 << 16

# A device that has not called back for this long has stopped (a JACK server that went away, a
# card unplugged): better an error than a wait without end. Hundreds of blocks at any usual size.
STALL_S = 2.0

N_CHANNELS = 16
SOUND_OFF = 120  # CC120, All Sound Off: cards fade out over card.STEAL_FADE_S

PORTAUDIO_APT = "sudo apt-get install libportaudio2"
LIVE_PIP = "pip install 'liquidsky[live]'"


# Live messages handled at the start of one block, at most: a burst (a flood from a faulty device or
# a program, thousands at once) is spread over the next blocks instead of holding up one block for
# tens of ms. About 9 us each on the development machine, so 256 take under half a 5.3 ms block; a
# steady 10,000 messages a second is 53 a block at 256 frames and 48 kHz, well below the cap.
MAX_MESSAGES_PER_BLOCK = 256


class LiveError(ValueError):
    """Real-time playback that cannot start: a missing library, device or port."""


# --- the sound card ----------------------------------------------------------------------------------


class DeviceLostError(LiveError):
    """The audio device stopped during playback; the recording up to then is complete."""


def import_sounddevice(command: str):
    """The sounddevice module, or a LiveError saying in one line what to install for `command`."""
    try:
        import sounddevice
    except OSError:  # the Python package is there but libportaudio is not
        raise LiveError(
            f"{command} needs the PortAudio library: {PORTAUDIO_APT} (or: {LIVE_PIP} for the Python side)"
        ) from None
    except ImportError:
        raise LiveError(f"{command} needs the sounddevice package: {LIVE_PIP} (and {PORTAUDIO_APT})") from None
    return sounddevice


def rescan_devices(sd) -> None:
    """Make PortAudio look for devices again (it looks once, on import; a JACK server may have started since)."""
    terminate = getattr(sd, "_terminate", None)
    initialize = getattr(sd, "_initialize", None)
    if terminate is not None and initialize is not None:
        terminate()
        initialize()


@dataclass(frozen=True)
class OutputDevice:
    """An audio output as PortAudio sees it."""

    index: int
    name: str
    hostapi: str
    n_channels: int
    default_rate_hz: int
    is_default: bool


def output_devices(sd) -> list[OutputDevice]:
    """Every device PortAudio can play through."""
    hostapis = sd.query_hostapis()
    try:
        default = int(sd.default.device[1])
    except (TypeError, ValueError, IndexError):
        default = -1
    found = []
    for index, dev in enumerate(sd.query_devices()):
        if dev["max_output_channels"] > 0:
            found.append(OutputDevice(
                index, dev["name"], hostapis[dev["hostapi"]]["name"], int(dev["max_output_channels"]),
                int(round(dev["default_samplerate"])), index == default,
            ))
    return found


def choose_output(sd, device: str | int | None) -> OutputDevice:
    """The device named by its index or part of its name (None: PortAudio's default output)."""
    devices = output_devices(sd)
    if not devices:
        raise LiveError(
            "no audio output device found: start a JACK server (jackd -d alsa, or jackd -d dummy "
            "without a sound card) or check that ALSA sees a card (see 'liquidsky devices')"
        )
    if device is None or device == "":
        for dev in devices:
            if dev.is_default:
                return dev
        return devices[0]
    text = str(device).strip()
    if text.isdigit():
        for dev in devices:
            if dev.index == int(text):
                return dev
        raise LiveError(f"no audio output device number {text} (see 'liquidsky devices')")
    matches = [dev for dev in devices if text.lower() in f"{dev.name} {dev.hostapi}".lower()]
    if len(matches) != 1:
        what = "no" if not matches else "more than one"
        raise LiveError(f"{what} audio output device matches {text!r} (see 'liquidsky devices')")
    return matches[0]


# --- between threads ------------------------------------------------------------------------------


class BlockRing:
    """Preallocated stereo blocks passed from one writer thread to one reader (the audio callback).

    The two counters are plain ints, each written by one side only; under the GIL an int store is
    atomic, so neither side takes a lock. A block is filled before `publish` moves the count past it.
    """

    def __init__(self, n_blocks: int, n_frames: int, n_channels: int = 2) -> None:
        if n_blocks < 1 or n_frames < 1:
            raise ValueError(f"a ring needs at least one block of one frame, not {n_blocks} x {n_frames}")
        self.n_blocks = n_blocks
        self.n_frames = n_frames
        self.blocks = np.zeros((n_blocks, n_frames, n_channels), dtype=np.float32)
        # Views made once, so the reader never makes one.
        self._views = [self.blocks[i] for i in range(n_blocks)]
        self.n_written = 0
        self.n_read = 0

    @property
    def n_ready(self) -> int:
        return self.n_written - self.n_read

    @property
    def n_free(self) -> int:
        return self.n_blocks - (self.n_written - self.n_read)

    def next_free(self) -> np.ndarray:
        """The block to fill next (the writer's side; only when n_free > 0)."""
        return self._views[self.n_written % self.n_blocks]

    def publish(self) -> None:
        """Hand the block from next_free() to the reader."""
        self.n_written += 1

    def pop_into(self, out: np.ndarray) -> bool:
        """Copy the oldest ready block into `out` (the reader's side); False when none is ready."""
        if self.n_written == self.n_read:
            return False
        np.copyto(out, self._views[self.n_read % self.n_blocks])
        self.n_read += 1
        return True


class Inbox:
    """MIDI messages from input threads (ports, the computer keyboard), drained by the render thread.

    A deque's append and popleft are atomic in CPython, so any number of threads may put.
    """

    def __init__(self, max_messages: int = 4096) -> None:
        # Bounded so that a flood with no one draining cannot grow without end; the oldest go first.
        self._queue: collections.deque[tuple[int, mido.Message]] = collections.deque(maxlen=max_messages)
        self.n_dropped = 0  # messages pushed out by newer ones while full (approximate across threads)

    def put(self, message: mido.Message) -> None:
        queue = self._queue
        if len(queue) == queue.maxlen:
            self.n_dropped += 1
        queue.append((time.perf_counter_ns(), message))

    def drain(self, limit: int | None = None) -> list[tuple[int, mido.Message]]:
        """The waiting (arrival time in perf_counter ns, message), oldest first: all, or at most limit."""
        out = []
        queue = self._queue
        while limit is None or len(out) < limit:
            try:
                out.append(queue.popleft())
            except IndexError:
                break
        return out


# --- what the render thread plays ------------------------------------------------------------------


class FileFeed:
    """A MIDI file's events, each handled at its exact frame as in an offline render, cut into blocks."""

    def __init__(self, events: Iterable, engine, block_frames: int, end_frame: int | None = None) -> None:
        self.engine = engine
        self._blocks = render_events(events, engine, block_frames=block_frames, end_frame=end_frame)
        self._pending = np.zeros((0, 2), dtype=np.float32)
        self._pos = 0
        self.expected_frames = max(last_event_frame(events) or 0, end_frame or 0)

    def fill(self, out: np.ndarray) -> int:
        """Write the next frames into `out`; returns how many are music (the rest is zeroed; 0 at the end)."""
        n_done, n_want = 0, out.shape[0]
        while n_done < n_want:
            if self._pos >= self._pending.shape[0]:
                block = next(self._blocks, None)
                if block is None:
                    break
                self._pending, self._pos = block.mix, 0
            k = min(n_want - n_done, self._pending.shape[0] - self._pos)
            out[n_done:n_done + k] = self._pending[self._pos:self._pos + k]
            n_done += k
            self._pos += k
        out[n_done:] = 0.0
        return n_done


class LiveFeed:
    """Messages from an Inbox, handled at the start of the block they arrive in."""

    def __init__(self, engine, inbox: Inbox, max_frames: int | None = None) -> None:
        self.engine = engine
        self.inbox = inbox
        self.max_frames = max_frames
        self.expected_frames = max_frames or 0
        self.n_done = 0
        self._finished = False
        # (engine frame, arrival ns, note) of recent note-ons, to measure note-on-to-sound latency.
        self.note_ons: collections.deque[tuple[int, int, int]] = collections.deque(maxlen=4096)

    def finish(self) -> None:
        """End the feed (from any thread): the player stops after the blocks already rendered."""
        self._finished = True

    def fill(self, out: np.ndarray) -> int:
        if self._finished:
            return 0
        n = out.shape[0]
        if self.max_frames is not None:
            n = min(n, self.max_frames - self.n_done)
            if n <= 0:
                return 0
        engine = self.engine
        for arrived_ns, message in self.inbox.drain(MAX_MESSAGES_PER_BLOCK):
            if message.type == "note_on" and message.velocity > 0:
                self.note_ons.append((engine.frame, arrived_ns, message.note))
            engine.handle(message)
        engine.render(out.shape[0], out=out)
        out[n:] = 0.0
        self.n_done += n
        return n


# --- the player -------------------------------------------------------------------------------------


@dataclass
class Status:
    """What the status line shows."""

    played_s: float
    expected_s: float
    n_sounding: int
    n_cards: int
    underruns: int


@dataclass
class PlayReport:
    """What a real-time run did; the timings are per block in nanoseconds."""

    rate_hz: int
    block_frames: int
    n_frames_played: int
    n_frames_rendered: int
    device_underruns: int  # the device said it ran dry (PortAudio's output underflow flag)
    empty_blocks: int  # the callback found no block ready and played silence
    callback_ns: np.ndarray
    render_ns: np.ndarray
    output_latency_s: float
    notes_stolen: int
    render_realtime: bool = False  # the render thread ran at real-time priority
    interrupted: BaseException | None = None

    @property
    def underruns(self) -> int:
        return self.device_underruns + self.empty_blocks

    @property
    def played_s(self) -> float:
        return self.n_frames_played / self.rate_hz

    @property
    def block_period_ns(self) -> float:
        return self.block_frames / self.rate_hz * 1e9

    def percentiles_us(self, which: str = "callback") -> tuple[float, float]:
        """(p50, p99) of the callback's or the render thread's time per block, in microseconds."""
        a = self.callback_ns if which == "callback" else self.render_ns
        if a.size == 0:
            return (float("nan"), float("nan"))
        p50, p99 = np.percentile(a, [50, 99])
        return float(p50) / 1e3, float(p99) / 1e3


class Player:
    """An engine played in real time: a render thread fills a BlockRing, the audio callback empties it.

    The callback only copies a ready block into the device's buffer, or silence when none is ready
    (counted as an underrun unless the feed has ended); it counts with plain ints and writes its own
    duration into a preallocated array. The recording, if any, is written by the render thread.
    """

    def __init__(
        self,
        feed,
        *,
        rate_hz: int,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
        ring_blocks: int = RING_BLOCKS_PLAY,
        recorder: AudioFileWriter | None = None,
    ) -> None:
        self.feed = feed
        self.engine = feed.engine
        self.rate_hz = int(rate_hz)
        self.block_frames = int(block_frames)
        self.ring = BlockRing(ring_blocks, self.block_frames)
        self.recorder = recorder
        self.period_s = self.block_frames / self.rate_hz

        # Written by the callback only.
        self.n_frames_played = 0
        self.device_underruns = 0
        self.empty_blocks = 0
        self.drained = False
        self._n_callbacks = 0
        self._callback_ns = np.zeros(TIMING_SLOTS, dtype=np.int64)
        self._popped_ns = np.zeros(TIMING_SLOTS, dtype=np.int64)  # when each block left the ring

        # Written by the render thread only.
        self.feed_done = False
        self.n_frames_rendered = 0
        self.n_sounding = 0
        self._n_rendered_blocks = 0
        self._render_ns = np.zeros(TIMING_SLOTS, dtype=np.int64)
        self.error: BaseException | None = None

        self.render_realtime = False
        self._stop = False  # written by the controlling thread
        self._thread: threading.Thread | None = None
        self.output_latency_s = 0.0

    # --- the audio callback ------------------------------------------------------------------------

    def callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        """sounddevice's callback: copy one ready block out, or silence. No allocation, I/O or locks."""
        t0 = time.perf_counter_ns()
        if status.output_underflow:
            self.device_underruns += 1
        block = self.ring.n_read
        if frames == self.block_frames and self.ring.pop_into(outdata):
            self._popped_ns[block % TIMING_SLOTS] = t0
            self.n_frames_played += frames
        else:
            outdata.fill(0.0)
            if not self.feed_done:
                self.empty_blocks += 1
            elif self.ring.n_written == self.ring.n_read:
                self.drained = True
        self._callback_ns[self._n_callbacks % TIMING_SLOTS] = time.perf_counter_ns() - t0
        self._n_callbacks += 1

    # --- the render thread ---------------------------------------------------------------------------

    def start_rendering(self) -> None:
        """Start the render thread; it fills the ring and keeps it full until the feed ends or stop()."""
        self._thread = threading.Thread(target=self._render_loop, name="liquidsky-render", daemon=True)
        self._thread.start()

    def _render_loop(self) -> None:
        ring, poll_s = self.ring, self.period_s * POLL_FRACTION
        self.render_realtime = realtime_priority(RENDER_RT_PRIORITY)
        try:
            while not self._stop:
                if ring.n_free == 0:
                    time.sleep(poll_s)
                    continue
                out = ring.next_free()
                t0 = time.perf_counter_ns()
                n = self.feed.fill(out)
                self._render_ns[self._n_rendered_blocks % TIMING_SLOTS] = time.perf_counter_ns() - t0
                if n == 0:
                    break
                ring.publish()
                self._n_rendered_blocks += 1
                self.n_frames_rendered += n
                self.n_sounding = self.engine.n_sounding
                if self.recorder is not None:
                    self.recorder.write(out[:n])
        except BaseException as e:  # handed to the controlling thread, which raises it
            self.error = e
        finally:
            self.feed_done = True

    def wait_until_primed(self, timeout_s: float = 30.0) -> None:
        """Block until the ring is full (or the feed has ended), so playback starts without a gap."""
        deadline = time.monotonic() + timeout_s
        while self.ring.n_free > 0 and not self.feed_done:
            if time.monotonic() > deadline:
                raise LiveError("the render thread did not get ahead of the sound card")
            time.sleep(self.period_s * POLL_FRACTION)
        self._raise_error()

    def stop(self) -> None:
        """Stop the render thread and wait for it."""
        self._stop = True
        if self._thread is not None:
            self._thread.join()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    # --- running -----------------------------------------------------------------------------------

    def status(self) -> Status:
        return Status(
            played_s=self.n_frames_played / self.rate_hz,
            expected_s=self.feed.expected_frames / self.rate_hz,
            n_sounding=self.n_sounding,
            n_cards=self.engine.n_cards,
            underruns=self.device_underruns + self.empty_blocks,
        )

    def run(
        self,
        sd,
        device: int | None = None,
        *,
        on_status: Callable[[Status], None] | None = None,
        status_interval_s: float = 0.2,
        latency: str | float = "low",
    ) -> PlayReport:
        """Play through sounddevice until the feed ends (and the device has played it) or Ctrl-C.

        Ctrl-C (or SIGTERM) stops the sound at once; the notes still sounding are faded out over a
        few milliseconds in the recording, which the caller can then close as a complete file. The
        interruption is returned in the report's `interrupted`, for the caller to raise after that.
        """
        self.start_rendering()
        interrupted: BaseException | None = None
        stream = None
        frozen = False
        previous_switch = sys.getswitchinterval()
        try:
            self.wait_until_primed()
            stream = sd.OutputStream(
                samplerate=self.rate_hz, blocksize=self.block_frames, device=device, channels=2,
                dtype="float32", callback=self.callback, latency=latency,
            )
            self.output_latency_s = float(stream.latency)
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            # A full garbage collection walks every object the process holds (numpy's, mido's, the
            # voices') with the GIL held, so the callback would wait through it. Collect
            # once now and freeze what exists; later collections look only at newer objects.
            gc.collect()
            gc.freeze()
            frozen = True
            stream.start()
            next_status = time.monotonic()
            seen_calls, seen_at = -1, next_status
            while not self.drained:
                self._raise_error()
                now = time.monotonic()
                if self._n_callbacks != seen_calls:
                    seen_calls, seen_at = self._n_callbacks, now
                elif now - seen_at > STALL_S or not stream.active:
                    raise DeviceLostError("the sound card stopped asking for audio (is the JACK server or "
                                          "the device still there?)")
                if on_status is not None and now >= next_status:
                    on_status(self.status())
                    next_status += status_interval_s
                time.sleep(min(status_interval_s, 0.05))
            # The last blocks are in the device's buffer: let them be heard.
            time.sleep(self.output_latency_s + self.period_s)
            if on_status is not None:
                on_status(self.status())
            stream.stop()
        except KeyboardInterrupt as e:  # SIGTERM arrives as a subclass (synth.cli)
            interrupted = e
            _quietly(stream, "abort")
        except DeviceLostError:
            _quietly(stream, "abort")
            self.stop()
            _quietly(stream, "close")
            stream = None
            # What was played so far stays a complete recording: its notes faded out, as after Ctrl-C.
            if self.recorder is not None and self.error is None:
                self.fade_out_recording()
            raise
        except BaseException:
            _quietly(stream, "abort")
            raise
        finally:
            sys.setswitchinterval(previous_switch)
            if frozen:
                gc.unfreeze()
            self.stop()
            _quietly(stream, "close")
        self._raise_error()
        if interrupted is not None and self.recorder is not None:
            self.fade_out_recording()
        return self.report(interrupted)

    def fade_out_recording(self) -> None:
        """After a stop: All Sound Off on every channel, and the fade it starts, into the recording."""
        engine = self.engine
        for channel in range(N_CHANNELS):
            engine.handle(mido.Message("control_change", channel=channel, control=SOUND_OFF, value=0))
        n_fade = int(round(card.STEAL_FADE_S * self.rate_hz)) + int(getattr(engine, "latency_frames", 0)) + 1
        self.recorder.write(engine.render(n_fade))

    def report(self, interrupted: BaseException | None = None) -> PlayReport:
        n_cb = min(self._n_callbacks, TIMING_SLOTS)
        n_render = min(self._n_rendered_blocks, TIMING_SLOTS)
        return PlayReport(
            rate_hz=self.rate_hz,
            block_frames=self.block_frames,
            n_frames_played=self.n_frames_played,
            n_frames_rendered=self.n_frames_rendered,
            device_underruns=self.device_underruns,
            empty_blocks=self.empty_blocks,
            callback_ns=self._callback_ns[:n_cb].copy(),
            render_ns=self._render_ns[:n_render].copy(),
            output_latency_s=self.output_latency_s,
            notes_stolen=int(getattr(self.engine, "notes_stolen", 0)),
            render_realtime=self.render_realtime,
            interrupted=interrupted,
        )

    def block_played_ns(self, block_index: int) -> int:
        """perf_counter time at which the callback copied out block `block_index` (of the last 2**16)."""
        return int(self._popped_ns[block_index % TIMING_SLOTS])


def _quietly(stream, method: str) -> None:
    """stream.abort() or close() on the way out: a device already gone may fail it, which changes nothing."""
    if stream is not None:
        with contextlib.suppress(Exception):
            getattr(stream, method)()


def realtime_priority(priority: int) -> bool:
    """Put the calling thread in SCHED_FIFO at `priority` if the system allows it; True if it did."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    with contextlib.suppress(OSError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # 0: this thread (Linux)
        return True
    return False


def warm_up(engine_factory: Callable[[], object], block_frames: int) -> None:
    """Run one note through a throwaway engine so that the kernel and the voices are loaded before playback."""
    engine = engine_factory()
    engine.handle(mido.Message("note_on", note=60, velocity=64))
    engine.render(block_frames)
