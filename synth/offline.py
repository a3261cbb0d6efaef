"""Offline rendering: frame-stamped MIDI events through the engine, into arrays or audio files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import mido
import numpy as np

from synth.engine import Engine
from synth.midi import ENDS_ALL_NOTES, PEDALS, is_note_on, pedal_down
from synth.protocols import Renderer
from synth.midifile import EventStream, PackedEvents, end_frame
from synth.sinks import AudioFileWriter, SinkError, output_format
from synth.units import db_to_gain, frames_to_seconds, gain_to_db, seconds_to_frames

# After the last event the engine plays on until it falls silent; silence is checked only on this
# absolute frame grid, so where a render ends never depends on the block size. 256 frames is
# 5.8 ms at 44.1 kHz: the end lands at most that far past the last release.
TAIL_GRID_FRAMES = 256

# Safety net: a note that never ends by itself (a looped voice whose release takes minutes) is cut
# this long after the song's end. A choice: far longer than any musical release.
TAIL_LIMIT_S = 60.0

DEFAULT_BLOCK_FRAMES = 4096

ProgressCallback = Callable[[int, int], None]


class RenderError(ValueError):
    """A render that cannot or should not be done, e.g. a song longer than the allowed maximum."""


class TooLongError(RenderError):
    """The events of a song reach past the allowed number of frames."""

    def __init__(self, message: str, n_frames: int, max_frames: int, rate_hz: float) -> None:
        super().__init__(message)
        self.n_frames = n_frames
        self.max_frames = max_frames
        self.rate_hz = rate_hz


class Block(NamedTuple):
    """One rendered block: the stereo mix and, when the engine makes them, the per-card stems."""

    mix: np.ndarray  # float32 (n_frames, 2)
    stems: np.ndarray | None  # float32 (n_frames, n_cards)


@dataclass(frozen=True)
class RenderReport:
    """What render_to_file did."""

    n_frames: int
    duration_s: float
    rate_hz: int
    peak_dbfs: float  # of the file as written (after normalising), before clipping
    n_clipped: int  # samples, not frames
    notes_stolen: int
    stem_paths: list[Path] = field(default_factory=list)
    gain_db: float = 0.0  # the normalising gain (0.0 without --normalize)


def say_duration(seconds: float) -> str:
    """'2.1 hours', '12.5 minutes' or '42.0 s': a length for a message."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 60:
        return f"{seconds / 60:.1f} minutes"
    return f"{seconds:.1f} s"


def last_event_frame(events: Iterable) -> int | None:
    """The frame of the last of time-sorted events: a stream's `last_frame`, else the last item's."""
    if hasattr(events, "last_frame"):
        return events.last_frame
    return events[-1].frame if events else None


def check_length(events: Iterable, max_frames: int | None, rate_hz: float, name: str = "song") -> None:
    """Raise TooLongError if the events reach past max_frames (None: no limit)."""
    last = last_event_frame(events)
    if max_frames is None or last is None:
        return
    if last > max_frames:
        raise TooLongError(
            f"{name}: {say_duration(last / rate_hz)} of audio exceeds the limit of "
            f"{say_duration(max_frames / rate_hz)}",
            last, max_frames, rate_hz,
        )


def render_events(
    events: Iterable,
    engine,
    *,
    on_block: ProgressCallback | None = None,
    max_frames: int | None = None,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    end_frame: int | None = None,
) -> Iterator[Block]:
    """Play time-sorted events (anything with .frame, .track, .message) through an engine.

    `events` is a sequence, or an iterable with a `last_frame` (synth.midifile.EventStream), which
    is walked once, so that the events need not all be in memory at once.

    Yields Blocks of at most block_frames frames (fresh arrays, the caller may keep them). Each
    event is handled exactly at its frame; the engine's latency is compensated (its first
    latency_frames frames are dropped and as many more are rendered at the end) so an event at
    frame F sounds from output frame F. After the last event the engine plays on until
    `engine.is_silent` (checked on a TAIL_GRID_FRAMES grid), at most TAIL_LIMIT_S past the release
    of held notes below.

    Notes the file leaves held (a missing note-off, a sustain pedal never lifted) are released at
    `end_frame` (the song's end of track; default the last event), as a sequencer does on stop.

    on_block(n_frames_done, n_frames_estimated) is called after every block. The length check
    against max_frames happens here, before anything is rendered.
    """
    if block_frames < 1:
        raise ValueError(f"block_frames must be at least 1, not {block_frames}")
    check_length(events, max_frames, engine.rate_hz)
    return _Loop(events, engine, on_block, block_frames, end_frame).run()


class _Loop:
    """The state of one pass of render_events."""

    def __init__(self, events, engine: Renderer, on_block, block_frames: int, end_frame: int | None) -> None:
        self.events = events
        self.engine = engine
        self.on_block = on_block
        self.block_frames = block_frames
        self.last_frame = last_event_frame(events) or 0
        self.end_frame = max(self.last_frame, end_frame or 0)
        self.pos = 0  # engine frames rendered, on the events' time line
        self.to_drop = int(engine.latency_frames)
        self.n_done = 0  # output frames yielded
        # Silence is held back while the events play: the frames after the last sound, from the
        # first TAIL_GRID_FRAMES boundary past it, are yielded only when more sound follows, so a
        # song whose last events make no sound (a controller, a program change, a stray event long
        # after the music) ends where its sound ends. On the grid, so that the block size changes
        # nothing.
        self.hold_silence = True
        self.n_held = 0  # zero frames held, starting at output frame n_done
        self.sound_grid_end = 0  # the first grid boundary at or after the last sounding output frame
        self.stems_width: int | None = None
        # Keys still down and pedals still pressed, to release at the end: {(track, channel, key): n}.
        self.held: dict[tuple[int, int, int], int] = {}
        self.pedals: set[tuple[int, int, int]] = set()  # (track, channel, control)

    def run(self) -> Iterator[Block]:
        engine = self.engine
        for event in self.events:
            if event.frame > self.pos:
                yield from self.advance(event.frame - self.pos)
            engine.handle(event.message, track=event.track)
            self.note(event.track, event.message)

        self.hold_silence = False
        if self.n_held and engine.is_silent:
            # Only silence since the last sound, and none to come: the song ends on the grid after it.
            self.n_held = min(self.n_held, max(0, self.sound_grid_end - self.n_done))
            yield from self.release_silence()
            if self.on_block is not None:
                self.on_block(self.n_done, self.n_done)
            return
        yield from self.release_silence()

        tail_limit = seconds_to_frames(TAIL_LIMIT_S, engine.rate_hz)
        # An end of track far past the last event (a broken file) does not keep notes held for long.
        release_at = min(self.end_frame, self.last_frame + tail_limit)
        limit = release_at + tail_limit
        released = False
        while not engine.is_silent and self.pos < limit:
            if not released and self.pos >= release_at:
                self.release_all()
                released = True
                continue
            target = (self.pos // TAIL_GRID_FRAMES + 1) * TAIL_GRID_FRAMES
            if not released:
                target = min(target, release_at)
            yield from self.advance(min(target, limit) - self.pos)

        # The frames still inside the engine's latency.
        latency = int(engine.latency_frames)
        yield from self.advance(latency)
        if self.on_block is not None:
            self.on_block(self.n_done, self.n_done)

    def advance(self, n_frames: int) -> Iterator[Block]:
        engine = self.engine
        while n_frames > 0:
            n = min(n_frames, self.block_frames)
            mix = engine.render(n)  # a new array, ours to keep (stems stay the engine's until its next call)
            stems = engine.stems
            n_frames -= n
            self.pos += n
            drop = min(self.to_drop, n)
            self.to_drop -= drop
            if drop == n:
                continue
            block = Block(
                np.asarray(mix[drop:], dtype=np.float32),
                None if stems is None else np.array(stems[drop:], dtype=np.float32),
            )
            if self.hold_silence:
                yield from self.hold(block)
            else:
                yield from self.emit(block)

    def emit(self, block: Block) -> Iterator[Block]:
        self.n_done += len(block.mix)
        if self.on_block is not None:
            self.on_block(self.n_done, max(self.n_done, self.end_frame))
        yield block

    def hold(self, block: Block) -> Iterator[Block]:
        """Yield the block, keeping back the zero frames from the grid boundary after its last sound."""
        if block.stems is not None:
            self.stems_width = block.stems.shape[1]
        if block.mix[-1].any() or (block.stems is not None and block.stems[-1].any()):
            last_sound = len(block.mix) - 1  # while music plays, the usual case: no need to search
        else:
            sounding = np.flatnonzero(block.mix.any(axis=1) if block.stems is None else
                                      block.mix.any(axis=1) | block.stems.any(axis=1))
            if sounding.size == 0:
                self.n_held += len(block.mix)
                return
            last_sound = int(sounding[-1])
        yield from self.release_silence()
        start = self.n_done
        sound_end = start + last_sound + 1
        self.sound_grid_end = -(-sound_end // TAIL_GRID_FRAMES) * TAIL_GRID_FRAMES
        keep = min(len(block.mix), self.sound_grid_end - start)
        if keep < len(block.mix):
            self.n_held = len(block.mix) - keep
            block = Block(block.mix[:keep], None if block.stems is None else block.stems[:keep])
        yield from self.emit(block)

    def release_silence(self) -> Iterator[Block]:
        """The zero frames held back, as blocks of at most block_frames: more sound follows them."""
        while self.n_held > 0:
            n = min(self.n_held, self.block_frames)
            self.n_held -= n
            stems = None if self.stems_width is None else np.zeros((n, self.stems_width), dtype=np.float32)
            yield from self.emit(Block(np.zeros((n, 2), dtype=np.float32), stems))

    def note(self, track: int, msg: mido.Message) -> None:
        kind = msg.type
        if is_note_on(msg):
            key = (track, msg.channel, msg.note)
            self.held[key] = self.held.get(key, 0) + 1
        elif kind in ("note_on", "note_off"):
            key = (track, msg.channel, msg.note)
            n = self.held.get(key, 0)
            if n > 1:
                self.held[key] = n - 1
            else:
                self.held.pop(key, None)
        elif kind == "control_change":
            if msg.control in PEDALS:
                pedal = (track, msg.channel, msg.control)
                if pedal_down(msg.value):
                    self.pedals.add(pedal)
                else:
                    self.pedals.discard(pedal)
            elif msg.control in ENDS_ALL_NOTES:
                self.held = {k: n for k, n in self.held.items() if k[:2] != (track, msg.channel)}

    def release_all(self) -> None:
        """Lift every pedal and key the file left down (each note-off ends one instance)."""
        for track, channel, control in sorted(self.pedals):
            self.engine.handle(mido.Message("control_change", channel=channel, control=control, value=0),
                               track=track)
        for (track, channel, key), n in sorted(self.held.items()):
            for _ in range(n):
                self.engine.handle(mido.Message("note_off", channel=channel, note=key), track=track)
        self.pedals.clear()
        self.held.clear()


def song_end_frame(midi: mido.MidiFile, rate_hz: float) -> int | None:
    """The frame of the file's end of track (its length), or None when it has none (type 2)."""
    return end_frame(midi, rate_hz)


def render_to_array(
    midi: mido.MidiFile,
    *,
    rate_hz: int = 44100,
    model: str = "iix",
    n_voices: int | None = None,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    voices=None,
) -> np.ndarray:
    """Render a whole MIDI file in memory: float32 (n_frames, 2).

    `voices` is the voice set to play (default: the General MIDI set, synth.gm.default_voice_set).
    """
    events = EventStream(midi, rate_hz)
    engine = Engine(model=model, rate_hz=rate_hz, n_voices=n_voices, voices=voices)
    blocks = [b.mix for b in render_events(events, engine, block_frames=block_frames,
                                           end_frame=events.end_frame)]
    if not blocks:
        return np.zeros((0, 2), dtype=np.float32)
    return np.concatenate(blocks)


def render_to_file(
    midi,
    out_path: str | os.PathLike,
    *,
    rate_hz: int = 44100,
    model: str = "iix",
    n_voices: int | None = None,
    bits: int = 16,
    normalize_dbfs: float | None = None,
    stems_dir: str | os.PathLike | None = None,
    progress: ProgressCallback | None = None,
    max_frames: int | None = None,
    name: str | None = None,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    voices=None,
) -> RenderReport:
    """Render a MIDI file to a WAV or FLAC file (by out_path's extension), streamed and atomic.

    `midi` is a mido.MidiFile, or its events already timed at rate_hz (synth.midifile.EventStream or
    PackedEvents: with packed events and no other reference to the file, the render's memory hardly
    grows with the song's length).

    With stems_dir, each card also goes to its own mono file there, card-1.wav .. card-N.wav (the
    extension of out_path), unpanned, on the mix's scale; with normalize_dbfs they share one gain
    that puts the loudest stem at normalize_dbfs.
    `name` is what messages call the song (default: the MIDI file's name). `voices` is the voice
    set to play (default: the General MIDI set). Nothing is left on disk if the render fails or is
    interrupted.
    """
    out_path = Path(out_path)
    output_format(out_path)  # an unsupported extension fails before any work
    if name is None:
        name = os.path.basename(getattr(midi, "filename", None) or "song")
    if isinstance(midi, (EventStream, PackedEvents)):
        if midi.rate_hz != rate_hz:
            raise ValueError(f"events timed at {midi.rate_hz} Hz cannot be rendered at {rate_hz} Hz")
        events = midi
    else:
        # Made one at a time while rendering: no list of every event beside the file.
        events = EventStream(midi, rate_hz)
    check_length(events, max_frames, rate_hz, name)

    made_stems_dir = stems_dir is not None and not Path(stems_dir).exists()
    try:
        return _render_to_file(midi, out_path, events, rate_hz, model, n_voices, bits, normalize_dbfs,
                               stems_dir, progress, block_frames, voices)
    except BaseException:
        if made_stems_dir:
            with contextlib.suppress(OSError):
                os.rmdir(stems_dir)  # only if we made it and it stayed empty
        raise


def _render_to_file(midi, out_path: Path, events, rate_hz, model, n_voices, bits, normalize_dbfs,
                    stems_dir, progress, block_frames, voices=None) -> RenderReport:
    with ExitStack() as stack:
        mix_out = stack.enter_context(
            AudioFileWriter(out_path, rate_hz, 2, bits, normalize_dbfs=normalize_dbfs)
        )
        engine = Engine(model=model, rate_hz=rate_hz, n_voices=n_voices, stems=stems_dir is not None,
                        voices=voices)
        stem_paths: list[Path] = []
        stem_outs: list[AudioFileWriter] = []
        if stems_dir is not None:
            stems_dir = Path(stems_dir)
            try:
                stems_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise SinkError(f"{os.fspath(stems_dir)}: cannot make the stems folder ({e.strerror})") from e
            suffix = out_path.suffix.lower()
            for i in range(engine.n_cards):
                path = stems_dir / f"card-{i + 1}{suffix}"
                stem_paths.append(path)
                stem_outs.append(stack.enter_context(
                    AudioFileWriter(path, rate_hz, 1, bits, defer_gain=normalize_dbfs is not None)
                ))

        blocks = render_events(events, engine, on_block=progress, block_frames=block_frames,
                               end_frame=events.end_frame)
        for block in blocks:
            mix_out.write(block.mix)
            for i, stem_out in enumerate(stem_outs):
                stem_out.write(block.stems[:, i])
        mix_out.close()
        if stem_outs and normalize_dbfs is not None:
            # One gain for every stem, so their balance stays; the loudest lands at normalize_dbfs.
            # (Stems are mono and unpanned, so the mix's own gain could push them past full scale.)
            stem_peak = max(stem_out.input_peak for stem_out in stem_outs)
            stem_gain = db_to_gain(normalize_dbfs) / stem_peak if stem_peak > 0 else 1.0
            for stem_out in stem_outs:
                stem_out.close(gain=stem_gain)
        for stem_out in stem_outs:
            stem_out.close()

    return RenderReport(
        n_frames=mix_out.n_frames,
        duration_s=frames_to_seconds(mix_out.n_frames, rate_hz),
        rate_hz=int(rate_hz),
        peak_dbfs=mix_out.peak_dbfs,
        n_clipped=mix_out.n_clipped,
        notes_stolen=engine.notes_stolen,
        stem_paths=stem_paths,
        gain_db=gain_to_db(mix_out.gain),
    )
