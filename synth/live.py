"""Real-time playback: a render thread fills a ring of blocks in C memory that the C audio callback copies out."""

from __future__ import annotations

import collections
import contextlib
import gc
import inspect
import math
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
from synth.midi import N_CHANNELS
from synth.protocols import Feed, Renderer
from synth.offline import last_event_frame, render_events

try:  # built by pip install on POSIX systems; needs no PortAudio to import
    from synth import _audio
except ImportError:  # pragma: no cover - a build without it
    _audio = None

if TYPE_CHECKING:
    from synth.sinks import AudioFileWriter

DEFAULT_BLOCK_FRAMES = 256  # 5.3 ms at 48 kHz: the block benchmarks/live_bench.py measures at, and JACK's usual period

# Audio rendered ahead of the callback. A file has no latency to keep low, so by default it gets a
# cushion of 2 s (`play --buffer`), which rides out a render thread the scheduler holds up for a
# second or more; the ring is filled before the sound starts (about 0.1 s of rendering). Live input
# gets 2 blocks, the least that lets the thread render one block while the callback copies the other.
PLAY_BUFFER_S = 2.0
RING_BLOCKS_PLAY = 8  # the least a file gets, whatever --buffer says
RING_BLOCKS_LIVE = 2

# Live input is placed by the audio clock of the last this many callbacks (1.4 s at 256 frames and
# 48 kHz): the earliest of them is the card's own pace, the others came late.
CLOCK_WINDOW_CALLBACKS = 256

# How often the render thread looks for a free block, as a fraction of a block period. The callback
# does not signal (that would take a lock or a system call), so the thread polls; a quarter period
# keeps it well ahead of the callback at a few hundred wake-ups a second.
POLL_FRACTION = 0.25

# While a stream runs, a thread holding the GIL is asked to hand it over after 1 ms instead of
# Python's 5 ms, which is about one whole 256-frame block at 48 kHz (a choice, restored afterwards).
SWITCH_INTERVAL_S = 0.001

# The render thread asks for the lowest real-time priority (SCHED_FIFO 1) where allowed (root, or
# an rtprio limit as the audio group has): above every ordinary task, below the audio server's own
# threads, so that a compiler or a browser does not hold it up for a scheduler slice of several ms.
# Without the right it runs at normal priority, and the ring ahead of the card covers for it.
RENDER_RT_PRIORITY = 1

# Per-block timings kept for the report: 2**16 blocks is 5.8 minutes at 256 frames and 48 kHz;
# later blocks overwrite the oldest (the percentiles then describe the last 5.8 minutes). The same
# number as synth/_audio.c's TIMING_SLOTS.
TIMING_SLOTS = 1 << 16

# A device that has not called back for this long has stopped (a JACK server that went away, a
# card unplugged): better an error than a wait without end. Hundreds of blocks at any usual size.
STALL_S = 2.0

SOUND_OFF = 120  # CC120, All Sound Off: cards fade out over card.STEAL_FADE_S

PORTAUDIO_APT = "sudo apt-get install libportaudio2"
LIVE_PIP = "pip install 'liquidsky[live]'"

# liquidsky's own JACK client (synth/_audio.c): libjack is opened at run time, as PortAudio is.
JACK_LIBRARY = "libjack.so.0"
JACK_APT = "sudo apt-get install libjack-jackd2-0"
JACK_HOSTAPI = "JACK Audio Connection Kit"  # PortAudio's name for its JACK host API
JACK_CLIENT_NAME = "liquidsky"
# The JACK server to play to: the one the live tests name (tests/synth/jack_tools.py), else libjack's own
# JACK_DEFAULT_SERVER, else the server named "default".
JACK_SERVER_ENVS = ("LIQUIDSKY_JACK_SERVER", "JACK_DEFAULT_SERVER")

# The audio paths of play and live (--audio): "jack" is liquidsky's own JACK client, "portaudio"
# PortAudio's output (through whatever host API the device is on: ALSA, PulseAudio, JACK, CoreAudio),
# "auto" the JACK client when the output chosen is PortAudio's JACK device, else PortAudio.
AUDIO_PATHS = ("auto", "jack", "portaudio")
DEFAULT_AUDIO = "auto"


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
        if getattr(sd, "_initialized", 1) > 0:
            terminate()
        initialize()


def release_portaudio(sd) -> None:
    """Let PortAudio go (sounddevice initialises it on import, to list the devices).

    On JACK, PortAudio keeps a client of its own in the server's graph from then on, whose thread the
    server waits for every period even with no stream open: when liquidsky's own JACK client plays,
    that is one client more that can come late. rescan_devices brings PortAudio back.
    """
    terminate = getattr(sd, "_terminate", None)
    if terminate is None:
        return
    with contextlib.suppress(Exception):
        while getattr(sd, "_initialized", 0) > 0:
            terminate()


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


# --- the sound card's side, in C -------------------------------------------------------------------


def _ring_module():
    """synth._audio (the C ring and callback), or a LiveError when this build has none."""
    if _audio is None:
        raise LiveError("this build of liquidsky has no real-time audio module (synth._audio); "
                        "reinstall it with a C compiler (pip install .)")
    return _audio


def now_ns() -> int:
    """The clock the audio callback stamps its times with (CLOCK_MONOTONIC), in nanoseconds."""
    return _audio.now_ns() if _audio is not None else time.perf_counter_ns()


class BlockRing:
    """Stereo blocks in C memory passed from one writer thread (the render thread) to the audio callback.

    The slots are numpy views of the C ring's memory; the counters are C11 atomics, so neither side
    takes a lock and the callback (in synth/_audio.c) needs no Python. `consume` runs the callback's
    own code once from Python, for tests and for stand-ins of a sound card.
    """

    def __init__(self, n_blocks: int, n_frames: int, n_channels: int = 2) -> None:
        if n_blocks < 1 or n_frames < 1:
            raise ValueError(f"a ring needs at least one block of one frame, not {n_blocks} x {n_frames}")
        self.c = _ring_module().Ring(n_blocks, n_frames, n_channels)
        self.n_blocks = n_blocks
        self.n_frames = n_frames
        self.blocks = np.asarray(self.c)  # (n_blocks, n_frames, n_channels) float32, the C memory itself
        self._views = [self.blocks[i] for i in range(n_blocks)]

    n_written = property(lambda self: self.c.n_written)
    n_read = property(lambda self: self.c.n_read)
    n_ready = property(lambda self: self.c.n_ready)
    n_free = property(lambda self: self.c.n_free)

    def slot(self, block_index: int) -> np.ndarray:
        """The memory of block number `block_index` (valid while it is in the ring)."""
        return self._views[block_index % self.n_blocks]

    def next_free(self) -> np.ndarray:
        """The block to fill next (the writer's side; only when n_free > 0)."""
        return self._views[self.c.n_written % self.n_blocks]

    def publish(self) -> None:
        """Hand the block from next_free() to the reader."""
        self.c.publish()

    def finish(self) -> None:
        """No block follows those published: from now on silence is the end, not an underrun."""
        self.c.finish()

    def consume(self, out: np.ndarray, underflow: bool = False) -> None:
        """The audio callback's code, once: copy ready frames into `out`, silence for the rest."""
        self.c.consume(out, underflow)


def ring_blocks_for(seconds: float, rate_hz: int, block_frames: int) -> int:
    """Blocks of block_frames that hold `seconds` of audio (at least RING_BLOCKS_LIVE)."""
    return max(RING_BLOCKS_LIVE, math.ceil(seconds * rate_hz / block_frames))


class SoundCard:
    """PortAudio, as sounddevice sees it: sounddevice lists the devices, synth._audio plays the stream.

    The stream is opened from C on the same PortAudio library sounddevice loaded, so device numbers
    agree, and its callback copies blocks out of the ring without Python.
    """

    def __init__(self, sd) -> None:
        self.sd = sd

    def library(self) -> str:
        name = getattr(self.sd, "_libname", None)
        if not name:
            import ctypes.util

            name = ctypes.util.find_library("portaudio")
        if not name:
            raise LiveError(f"the PortAudio library is not found: {PORTAUDIO_APT}")
        return name

    def open_stream(self, ring: BlockRing, device: int | None, rate_hz: int, latency: str | float):
        audio = _ring_module()
        if device is None:
            device = int(self.sd.query_devices(kind="output")["index"])
        if isinstance(latency, str):
            info = self.sd.query_devices(device)
            latency = float(info["default_high_output_latency" if latency == "high" else "default_low_output_latency"])
        try:
            return audio.Stream(ring.c, self.library(), int(device), float(rate_hz), float(latency))
        except audio.AudioError as e:
            raise LiveError(str(e)) from None


def jack_server_name() -> str | None:
    """The JACK server named by the environment (JACK_SERVER_ENVS), or None for libjack's default."""
    for env in JACK_SERVER_ENVS:
        name = os.environ.get(env)
        if name:
            return name
    return None


class JackCard:
    """liquidsky's own JACK client (synth/_audio.c): two output ports, left and right, fed from the
    ring by a process callback in C, connected to the server's playback ports unless `connect` is
    False. It plays at the server's rate and period; `device` in open_stream is not used.
    """

    def __init__(self, server: str | None = None, *, connect: bool = True, client_name: str = JACK_CLIENT_NAME,
                 library: str | None = None) -> None:
        self.server = server if server is not None else jack_server_name()
        self.connect = connect
        self.client_name = client_name
        self.library = library or JACK_LIBRARY
        self.rate_hz: int | None = None
        self.buffer_frames: int | None = None

    @property
    def server_label(self) -> str:
        return self.server or "default"

    def device(self) -> OutputDevice:
        """The JACK server as an output, for the messages play and live print."""
        return OutputDevice(-1, f"JACK server '{self.server_label}'", "JACK, liquidsky's own client", 2,
                            self.rate_hz or 0, False)

    def _load(self, command: str):
        audio = _ring_module()
        import ctypes

        try:
            ctypes.CDLL(self.library)
        except OSError:
            raise LiveError(f"{command} needs the JACK library ({self.library}): {JACK_APT}") from None
        return audio

    def _error(self, e: Exception) -> LiveError:
        text = str(e)
        if text.startswith("no JACK server"):
            text += ": start one (jackd -d alsa, or jackd -d dummy without a sound card)"
        return LiveError(text)

    def server_info(self, command: str = "play") -> tuple[int, int]:
        """(rate in Hz, period in frames) of the server; a LiveError in one line without libjack or server."""
        audio = self._load(command)
        try:
            rate_hz, buffer_frames = audio.jack_server_info(self.library, self.server)
        except audio.AudioError as e:
            raise self._error(e) from None
        self.rate_hz, self.buffer_frames = int(rate_hz), int(buffer_frames)
        return self.rate_hz, self.buffer_frames

    def check_rate(self, rate_hz: int) -> None:
        if self.rate_hz is not None and int(rate_hz) != self.rate_hz:
            raise LiveError(f"the JACK server '{self.server_label}' plays at {self.rate_hz} Hz, not {int(rate_hz)} Hz "
                            "(a JACK server plays only at its own rate: leave out --rate)")

    def open_stream(self, ring: BlockRing, device: int | None, rate_hz: int, latency: str | float):
        audio = self._load("play")
        try:
            stream = audio.JackStream(ring.c, self.library, self.client_name, self.server, self.connect)
        except audio.AudioError as e:
            raise self._error(e) from None
        self.rate_hz, self.buffer_frames = stream.rate_hz, stream.buffer_frames
        try:
            self.check_rate(rate_hz)
        except LiveError:
            stream.close()
            raise
        return stream


def open_output(command: str, device: str | int | None = None, rate_hz: int | None = None,
                audio: str = DEFAULT_AUDIO):
    """(card, the OutputDevice, the rate to render at) for play and live, failing in one line.

    `audio` is one of AUDIO_PATHS. "jack" needs libjack and a running server, not PortAudio, and
    plays at the server's rate. "portaudio" and "auto" choose the device through sounddevice; "auto"
    then plays PortAudio's JACK device through liquidsky's own JACK client, and lets PortAudio go.
    """
    if audio not in AUDIO_PATHS:
        raise LiveError(f"no audio path {audio!r} (one of: {', '.join(AUDIO_PATHS)})")
    if audio == "jack":
        if device not in (None, ""):
            raise LiveError("--device chooses a PortAudio output; with --audio jack the JACK server is the output")
        card = JackCard()
        server_rate, _ = card.server_info(command)
        if rate_hz:
            card.check_rate(rate_hz)
        return card, card.device(), server_rate
    sd = import_sounddevice(command)
    chosen = choose_output(sd, device)
    if audio == "auto" and chosen.hostapi == JACK_HOSTAPI:
        card = JackCard()
        try:
            server_rate, _ = card.server_info(command)
        except LiveError:
            pass  # PortAudio reaches the server where liquidsky's own client does not: play through it
        else:
            if rate_hz:
                card.check_rate(rate_hz)
            release_portaudio(sd)
            return card, card.device(), server_rate
    return SoundCard(sd), chosen, rate_hz or chosen.default_rate_hz


# --- between threads ------------------------------------------------------------------------------


class Inbox:
    """MIDI messages from input threads (ports, the computer keyboard), drained by the render thread.

    A deque's append and popleft are atomic in CPython, so any number of threads may put. Each
    message is stamped with its arrival on the audio callback's clock (now_ns).
    """

    def __init__(self, max_messages: int = 4096) -> None:
        # Bounded so that a flood with no one draining cannot grow without end; the oldest go first.
        self._queue: collections.deque[tuple[int, mido.Message]] = collections.deque(maxlen=max_messages)
        self.n_dropped = 0  # messages pushed out by newer ones while full (approximate across threads)
        self._now = now_ns

    def put(self, message: mido.Message) -> None:
        queue = self._queue
        if len(queue) == queue.maxlen:
            self.n_dropped += 1
        queue.append((self._now(), message))

    def drain(self, limit: int | None = None) -> list[tuple[int, mido.Message]]:
        """The waiting (arrival time in ns, message), oldest first: all, or at most limit."""
        out = []
        queue = self._queue
        while limit is None or len(out) < limit:
            try:
                out.append(queue.popleft())
            except IndexError:
                break
        return out


# --- what the render thread plays ------------------------------------------------------------------


_TAKES_OUT: dict[type, bool] = {}


def render_into(engine, out: np.ndarray) -> None:
    """Render len(out) frames into `out` (Engine.render(n, out=) where the engine takes it)."""
    kind = type(engine)
    takes_out = _TAKES_OUT.get(kind)
    if takes_out is None:
        try:
            takes_out = "out" in inspect.signature(kind.render).parameters
        except (TypeError, ValueError):
            takes_out = False
        _TAKES_OUT[kind] = takes_out
    if takes_out:
        engine.render(out.shape[0], out=out)
    else:
        out[:] = engine.render(out.shape[0])


class FileFeed:
    """A MIDI file's events, each handled at its exact frame as in an offline render, cut into blocks."""

    def __init__(self, events: Iterable, engine: Renderer, block_frames: int, end_frame: int | None = None) -> None:
        self.engine = engine
        self._blocks = render_events(events, engine, block_frames=block_frames, end_frame=end_frame)
        self._pending = np.zeros((0, 2), dtype=np.float32)
        self._pos = 0
        self.expected_frames = max(last_event_frame(events) or 0, end_frame or 0)
        self.n_late = 0  # a file's events are always on their frames

    def follow_card_clock(self, clock, delay_frames: int) -> None:
        """A file's events are timed already: the card's clock changes nothing."""

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
    """Messages from an Inbox, each handled at the frame matching its arrival time.

    The audio callback stamps each call with (frames played, time); from the earliest-running of the
    recent stamps (a late callback says nothing about the card's clock) the feed knows which frame
    of the ring was being played when a message arrived, and schedules the message `delay_frames`
    later: a constant latency, so notes keep the rhythm they were played in. The Player sets `clock`
    and `delay_frames`; without a clock (no callback yet) a message lands at the start of the block.
    A message whose frame has already been rendered (the render thread was held up) lands at the
    start of the block and is counted in `n_late`.
    """

    def __init__(self, engine: Renderer, inbox: Inbox, max_frames: int | None = None) -> None:
        self.engine = engine
        self.inbox = inbox
        self.max_frames = max_frames
        self.expected_frames = max_frames or 0
        self.rate_hz = int(engine.rate_hz)
        self.n_done = 0
        self.n_late = 0
        self.clock: Callable[[], tuple[int, int] | None] | None = None
        self.delay_frames = 0
        self._frame = 0  # the ring frame of the next block's start
        self._finished = False
        self._pending: collections.deque[tuple[int, int, mido.Message]] = collections.deque()
        self._offsets: collections.deque[float] = collections.deque(maxlen=CLOCK_WINDOW_CALLBACKS)
        self._last_clock_ns = -1
        # (ring frame, arrival ns, note) of recent note-ons, to measure note-on-to-sound latency.
        self.note_ons: collections.deque[tuple[int, int, int]] = collections.deque(maxlen=4096)

    def finish(self) -> None:
        """End the feed (from any thread): the player stops after the blocks already rendered."""
        self._finished = True

    def follow_card_clock(self, clock, delay_frames: int) -> None:
        """Place each message `delay_frames` after the ring frame that `clock` says was playing when
        it arrived (clock: the callback's latest (frames played, time) stamps)."""
        self.clock = clock
        self.delay_frames = delay_frames

    def _clock_offset_ns(self) -> float | None:
        """The time at which ring frame 0 was (or would have been) played, by the recent callbacks."""
        stamp = self.clock() if self.clock is not None else None
        if stamp is not None and stamp[1] != self._last_clock_ns:
            frame, ns = stamp
            self._last_clock_ns = ns
            self._offsets.append(ns - frame * 1e9 / self.rate_hz)
        return min(self._offsets) if self._offsets else None

    def fill(self, out: np.ndarray) -> int:
        if self._finished:
            return 0
        n_block = out.shape[0]
        n = n_block
        if self.max_frames is not None:
            n = min(n, self.max_frames - self.n_done)
            if n <= 0:
                return 0
        start = self._frame
        offset_ns = self._clock_offset_ns()
        pending = self._pending
        for arrived_ns, message in self.inbox.drain(MAX_MESSAGES_PER_BLOCK):
            if offset_ns is None:
                target = start
            else:
                target = round((arrived_ns - offset_ns) * self.rate_hz / 1e9) + self.delay_frames
            if pending and target < pending[-1][0]:
                target = pending[-1][0]  # the clock estimate moved back: keep the order they came in
            pending.append((target, arrived_ns, message))
        engine = self.engine
        pos = 0
        handled = 0
        while pending and pending[0][0] < start + n_block and handled < MAX_MESSAGES_PER_BLOCK:
            target, arrived_ns, message = pending.popleft()
            at = target - start
            if at < 0:
                at = 0
                self.n_late += 1
            if at > pos:
                render_into(engine, out[pos:at])
                pos = at
            if message.type == "note_on" and message.velocity > 0:
                self.note_ons.append((start + at, arrived_ns, message.note))
            engine.handle(message)
            handled += 1
        if pos < n_block:
            render_into(engine, out[pos:])
        out[n:] = 0.0
        self._frame += n_block
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
    ring_blocks: int = 0
    render_realtime: bool = False  # the render thread ran at real-time priority
    late_messages: int = 0  # live input that arrived after its frame was rendered
    device_underrun_s: tuple[float, ...] = ()  # when the first device underruns came, in device time from start
    device_s: float = 0.0  # how long the device ran, silence included
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
    """An engine played in real time: a render thread fills a BlockRing, the C audio callback empties it.

    The callback (synth/_audio.c) copies ready frames into the device's buffer, or silence when none
    is ready (an underrun unless the feed has ended); it counts and times itself in C. The render
    thread also writes the recording, if any, one block after another as each has been played, so
    that a stop leaves in the file what was heard, however far ahead the ring is.
    """

    def __init__(
        self,
        feed: Feed,
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
        # A message that arrives while block k is copied out lands in block k + ring_blocks + 1 at the
        # latest: the first block the render thread has not started when it arrives.
        feed.follow_card_clock(self.ring.c.clock, (ring_blocks + 1) * self.block_frames)

        # Written by the render thread only (and by the controlling thread once it has stopped).
        self.feed_done = False
        self.n_frames_rendered = 0
        self.n_sounding = 0
        self._n_rendered_blocks = 0
        self._music_frames = [0] * ring_blocks  # frames of music in each slot (the last block may be short)
        self._n_recorded = 0  # blocks written to the recording
        self._render_ns = np.zeros(TIMING_SLOTS, dtype=np.int64)
        self.error: BaseException | None = None

        self.render_realtime = False
        self._stop = False  # written by the controlling thread
        self._thread: threading.Thread | None = None
        self.output_latency_s = 0.0

    # --- what the callback counted (in C) ------------------------------------------------------------

    @property
    def n_frames_played(self) -> int:
        return self.ring.c.frames_played

    @property
    def drained(self) -> bool:
        return self.ring.c.drained

    @property
    def empty_blocks(self) -> int:
        return self.ring.c.empty_blocks

    @property
    def device_underruns(self) -> int:
        return self.ring.c.device_underruns

    @property
    def n_callbacks(self) -> int:
        return self.ring.c.n_callbacks

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
                self.record_played()
                # A slot is free once played and, with a recording, written to it (which the callback
                # may have passed since record_played looked).
                done = self._n_recorded if self.recorder is not None else ring.n_read
                if ring.n_written - done >= ring.n_blocks:
                    time.sleep(poll_s)
                    continue
                index = ring.n_written
                out = ring.slot(index)
                t0 = time.perf_counter_ns()
                n = self.feed.fill(out)
                self._render_ns[self._n_rendered_blocks % TIMING_SLOTS] = time.perf_counter_ns() - t0
                if n == 0:
                    break
                self._music_frames[index % ring.n_blocks] = n
                ring.publish()
                self._n_rendered_blocks += 1
                self.n_frames_rendered += n
                self.n_sounding = self.engine.n_sounding
        except BaseException as e:  # handed to the controlling thread, which raises it
            self.error = e
        finally:
            self.feed_done = True
            ring.finish()

    def record_played(self) -> None:
        """Write the blocks the callback has copied out since the last call to the recording."""
        if self.recorder is None:
            return
        ring, n_read = self.ring, self.ring.n_read
        while self._n_recorded < n_read:
            i = self._n_recorded
            self.recorder.write(ring.slot(i)[: self._music_frames[i % ring.n_blocks]])
            self._n_recorded += 1

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
        card,
        device: int | None = None,
        *,
        on_status: Callable[[Status], None] | None = None,
        status_interval_s: float = 0.2,
        latency: str | float = "low",
    ) -> PlayReport:
        """Play through a sound card until the feed ends (and the device has played it) or Ctrl-C.

        `card` is a SoundCard (or the sounddevice module, wrapped in one) or anything else with
        `open_stream(ring, device, rate_hz, latency)`. Ctrl-C (or SIGTERM) stops the sound at once;
        the recording gets what was played and the notes then sounding faded out over a few
        milliseconds, so the caller can close it as a complete file. The interruption is returned in
        the report's `interrupted`, for the caller to raise after that.
        """
        if not hasattr(card, "open_stream"):
            card = SoundCard(card)
        self.start_rendering()
        interrupted: BaseException | None = None
        stream = None
        frozen = False
        previous_switch = sys.getswitchinterval()
        try:
            self.wait_until_primed()
            stream = card.open_stream(self.ring, device, self.rate_hz, latency)
            self.output_latency_s = float(stream.latency)
            # The render thread, not the callback, waits for the GIL now: a shorter switch interval
            # hands it over sooner from the thread that shows the status.
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            # A full garbage collection walks every object the process holds with the GIL held, so
            # the render thread would wait through it. Collect once now and freeze what exists;
            # later collections look only at newer objects.
            gc.collect()
            gc.freeze()
            frozen = True
            stream.start()
            next_status = time.monotonic()
            seen_calls, seen_at = -1, next_status
            while not self.drained:
                self._raise_error()
                now = time.monotonic()
                n_calls = self.n_callbacks
                if n_calls != seen_calls:
                    seen_calls, seen_at = n_calls, now
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
        except KeyboardInterrupt as e:  # SIGTERM arrives as a subclass (synth.app.cli.main)
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
        if self.recorder is not None:
            if interrupted is not None:
                self.fade_out_recording()
            else:
                self.record_played()
        return self.report(interrupted)

    def fade_out_recording(self) -> None:
        """After a stop (the render thread and the stream stopped): the rest of what was played, then
        the sound that followed it faded out over card.STEAL_FADE_S, into the recording."""
        self.record_played()
        ring, engine = self.ring, self.engine
        n_fade = int(round(card.STEAL_FADE_S * self.rate_hz))
        # As long as the engine's own fade below takes, so that a stop makes one length of file.
        tail = np.zeros((n_fade + int(engine.latency_frames) + 1, 2), dtype=np.float32)
        if ring.n_written > self._n_recorded:
            # The block after the last one heard was rendered: its start, faded out, ends the file.
            i = self._n_recorded
            follow = ring.slot(i)[: min(n_fade, self._music_frames[i % ring.n_blocks])]
            ramp = np.cos(np.linspace(0.0, np.pi / 2, n_fade, dtype=np.float64)[: follow.shape[0]]) ** 2
            tail[: follow.shape[0]] = follow * ramp[:, None]
            self.recorder.write(tail)
            return
        # Nothing was rendered past what was heard: the engine stands there, so it fades its own cards
        # (All Sound Off on every channel, and the fade it starts).
        for channel in range(N_CHANNELS):
            engine.handle(mido.Message("control_change", channel=channel, control=SOUND_OFF, value=0))
        render_into(engine, tail)
        self.recorder.write(tail)

    def report(self, interrupted: BaseException | None = None) -> PlayReport:
        n_render = min(self._n_rendered_blocks, TIMING_SLOTS)
        return PlayReport(
            rate_hz=self.rate_hz,
            block_frames=self.block_frames,
            n_frames_played=self.n_frames_played,
            n_frames_rendered=self.n_frames_rendered,
            device_underruns=self.device_underruns,
            empty_blocks=self.empty_blocks,
            device_underrun_s=tuple(f / self.rate_hz for f in self.ring.c.device_underrun_frames()),
            device_s=self.ring.c.frames_out / self.rate_hz,
            callback_ns=np.frombuffer(self.ring.c.callback_times_ns(), dtype=np.int64).copy(),
            render_ns=self._render_ns[:n_render].copy(),
            output_latency_s=self.output_latency_s,
            notes_stolen=int(self.engine.notes_stolen),
            ring_blocks=self.ring.n_blocks,
            render_realtime=self.render_realtime,
            late_messages=int(self.feed.n_late),
            interrupted=interrupted,
        )

    def block_played_ns(self, block_index: int) -> int:
        """Time (now_ns) at which the callback began to copy out block `block_index` (of the last 2**16)."""
        return int(self.ring.c.block_started_ns(block_index))


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
