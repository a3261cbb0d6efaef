"""Standard MIDI files in, one time-sorted list of frame-stamped channel events out.

Reading: the header and the chunk framing are checked here, and each track is walked byte by byte
so that a damaged file fails with one line that names the file, the track and the problem, while
the things a player may ignore (unknown meta events, sysex, unknown chunks, bytes after a track's
end-of-track event) are let through. The messages are mido's, so a file read here and one opened
with mido are the same kind of object, and an open mido.MidiFile is accepted everywhere.

Timing: the tempo map is resolved once, in exact integer arithmetic. Every event's time is kept
as an integer numerator over one denominator per file (seconds = n / d), and the frame is rounded
from that fraction, so a long file with many tempo changes has no drift from summed float deltas.

Tracks are numbered from 0 in TimedEvent and from 1 in error messages (the way players show them).
"""

from __future__ import annotations

import heapq
import os
import struct
from array import array
from collections.abc import Iterator
from fractions import Fraction
from typing import NamedTuple

import mido
from mido.midifiles.meta import KeySignatureError, build_meta_message

from synth.allocator import Allocator
from synth.midi import is_note_off, is_note_on

# Microseconds per beat when a file sets no tempo: 120 BPM (Standard MIDI File spec 1.0).
DEFAULT_TEMPO_US = 500_000
US_PER_SECOND = 1_000_000

# SMPTE frame rates a time division may name (SMF spec 1.0). Code 29 is 30-frame drop-frame
# timecode, which runs at 30000/1001 = 29.97 frames per second of real time.
SMPTE_FPS = {24: Fraction(24), 25: Fraction(25), 29: Fraction(30000, 1001), 30: Fraction(30)}

CHANNEL_TYPES = frozenset(
    {"note_on", "note_off", "control_change", "program_change", "pitchwheel", "aftertouch", "polytouch"}
)

# Data bytes after a channel status byte, by its high nibble (MIDI 1.0 spec): program change
# (0xC0) and channel pressure (0xD0) take one, the others two.
_CHANNEL_DATA_BYTES = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
# System common and real-time messages have no place in a file, but some writers leave them in;
# these lengths let the reader step over them. 0xF4, 0xF5, 0xF9 and 0xFD are undefined.
_SYSTEM_DATA_BYTES = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}

_META = 0xFF
_META_SET_TEMPO = 0x51
_META_END_OF_TRACK = 0x2F


class MidiFileError(ValueError):
    """A MIDI file that cannot be read; the message is one line: '<file>: <problem>'."""


class TimedEvent(NamedTuple):
    frame: int
    track: int
    message: mido.Message


# --- reading --------------------------------------------------------------------------------------


def read_midi(source: str | os.PathLike[str] | bytes | bytearray | memoryview | mido.MidiFile,
              name: str | None = None) -> mido.MidiFile:
    """Read a Standard MIDI File from a path or from its bytes; an open mido.MidiFile comes back as is.

    `name` is what error messages call the file (default: the path as given, or '<midi bytes>').
    Raises MidiFileError for anything that is not a readable MIDI file.
    """
    if isinstance(source, mido.MidiFile):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "<midi bytes>"
        data = bytes(source)
        filename = None
    elif isinstance(source, (str, os.PathLike)):
        filename = os.fspath(source)
        label = name or str(filename)
        try:
            with open(filename, "rb") as f:
                data = f.read()
        except OSError as e:
            raise MidiFileError(f"{label}: cannot read ({(e.strerror or str(e)).lower()})") from None
    else:
        raise TypeError(f"read_midi takes a path, bytes or a mido.MidiFile, not {type(source).__name__}")
    try:
        midi = _parse(data)
    except _Problem as problem:
        raise MidiFileError(f"{label}: {problem}") from None
    midi.filename = filename
    return midi


class _Problem(Exception):
    """What is wrong with the bytes; read_midi() puts the file name in front."""


def _parse(data: bytes) -> mido.MidiFile:
    if not data:
        raise _Problem("empty file")
    data = _unwrap_rmid(data)
    if data[:4] != b"MThd":
        raise _Problem("not a MIDI file (no MThd header)")
    if len(data) < 14:
        raise _Problem("truncated header")
    (header_len,) = struct.unpack_from(">I", data, 4)
    if header_len < 6:
        raise _Problem(f"bad header (length {header_len}, expected 6)")
    fmt, n_tracks, division = struct.unpack_from(">HHh", data, 8)
    if fmt > 2:
        raise _Problem(f"unknown MIDI format {fmt} (expected 0, 1 or 2)")
    if n_tracks == 0:
        raise _Problem("the header declares no tracks")
    try:
        decode_division(division)
    except ValueError as e:
        raise _Problem(str(e)) from None

    # A longer header is allowed: the spec tells readers to honour the length and skip the rest.
    pos = 8 + header_len
    tracks = []
    while len(tracks) < n_tracks:
        number = len(tracks) + 1
        if pos >= len(data):
            plural = "s" if n_tracks != 1 else ""
            found = "none" if not tracks else f"only {len(tracks)}"
            raise _Problem(f"the header declares {n_tracks} track{plural} but the file holds {found}")
        if pos + 8 > len(data):
            raise _Problem(f"truncated track {number}")
        chunk_id = data[pos:pos + 4]
        (length,) = struct.unpack_from(">I", data, pos + 4)
        body = data[pos + 8:pos + 8 + length]
        if chunk_id == b"MTrk":
            if len(body) < length:
                raise _Problem(f"truncated track {number}")
            tracks.append(_parse_track(body, number, pos + 8))
        elif not all(0x20 <= c < 0x7F for c in chunk_id):
            raise _Problem(f"garbage where track {number} should start (byte {pos:#x}: {chunk_id.hex(' ')})")
        elif len(body) < length:
            raise _Problem(f"truncated chunk {chunk_id.decode('ascii')!r} before track {number}")
        # else: a chunk type this reader does not know; the spec says to skip it.
        pos += 8 + length
    # Bytes after the last declared track are ignored: some writers pad files.
    return mido.MidiFile(type=fmt, ticks_per_beat=division, tracks=tracks)


def _unwrap_rmid(data: bytes) -> bytes:
    """The SMF inside a RIFF 'RMID' file (Microsoft's wrapper), or the data unchanged."""
    if data[:4] != b"RIFF" or data[8:12] != b"RMID":
        return data
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos:pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        if chunk_id == b"data":
            return data[pos + 8:pos + 8 + length]
        pos += 8 + length + (length & 1)  # RIFF chunks are padded to even lengths
    raise _Problem("RIFF RMID file without a 'data' chunk")


def _read_vlq(body: bytes, pos: int, number: int, base: int) -> tuple[int, int]:
    """A variable-length quantity (7 bits a byte, high bit = more follow) and the position after it."""
    value = 0
    for i in range(4):  # the spec caps these at four bytes (0x0FFFFFFF)
        if pos + i >= len(body):
            raise _Problem(f"truncated track {number} (a delta-time or length runs past the chunk end)")
        byte = body[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise _Problem(f"track {number}: variable-length number longer than 4 bytes at byte {base + pos:#x}")


def _parse_track(body: bytes, number: int, base: int) -> mido.MidiTrack:
    """One MTrk chunk's events as mido messages with delta times in ticks.

    `number` counts tracks from 1 and `base` is the body's offset in the file, both for messages.
    """
    track = mido.MidiTrack()
    running = None  # running status starts afresh in every track
    pos = 0
    carried = 0  # delta ticks of skipped events, added to the next kept one
    n = len(body)

    def truncated() -> _Problem:
        return _Problem(f"truncated track {number} (an event runs past the end of the chunk)")

    while pos < n:
        delta, pos = _read_vlq(body, pos, number, base)
        delta += carried
        carried = 0
        if pos >= n:
            raise truncated()
        start = pos
        status = body[pos]
        if status == _META:
            if pos + 1 >= n:
                raise truncated()
            meta_type = body[pos + 1]
            length, pos = _read_vlq(body, pos + 2, number, base)
            if pos + length > n:
                raise truncated()
            track.append(_meta_message(meta_type, body[pos:pos + length], delta, number))
            pos += length
            if meta_type == _META_END_OF_TRACK:
                break  # anything after it in the chunk is not part of the track
            # Strictly a meta event cancels running status; many files rely on it surviving, and
            # no valid file can tell the difference, so it is kept.
            continue
        if status in (0xF0, 0xF7):
            length, pos = _read_vlq(body, pos + 1, number, base)
            if pos + length > n:
                raise truncated()
            payload = body[pos:pos + length]
            pos += length
            if payload[-1:] == b"\xf7":
                payload = payload[:-1]
            if all(b < 0x80 for b in payload):
                track.append(mido.Message("sysex", data=payload, time=delta))
            else:
                # mido's sysex holds 7-bit data only; an 0xF7 escape carrying status bytes (or a
                # malformed sysex) is dropped, and its delta time goes to the next event.
                carried = delta
            continue
        if status >= 0x80:
            pos += 1
            if status >= 0xF0:
                if status not in _SYSTEM_DATA_BYTES:
                    raise _Problem(
                        f"track {number}: undefined status byte {status:#04x} at byte {base + start:#x}"
                    )
                n_data = _SYSTEM_DATA_BYTES[status]
            else:
                running = status
                n_data = _CHANNEL_DATA_BYTES[status & 0xF0]
        else:
            if running is None:
                raise _Problem(
                    f"track {number}: running status with no previous status byte at byte {base + start:#x}"
                )
            status = running
            n_data = _CHANNEL_DATA_BYTES[status & 0xF0]
        if pos + n_data > n:
            raise truncated()
        data = body[pos:pos + n_data]
        for i, byte in enumerate(data):
            if byte > 0x7F:
                raise _Problem(
                    f"track {number}: data byte {byte:#04x} > 127 after status {status:#04x}"
                    f" at byte {base + pos + i:#x}"
                )
        pos += n_data
        track.append(mido.Message.from_bytes(bytes([status]) + data, time=delta))
    return track


def _meta_message(meta_type: int, data: bytes, delta: int, number: int) -> mido.MetaMessage:
    if meta_type == _META_SET_TEMPO and len(data) < 3:
        raise _Problem(f"track {number}: set_tempo with {len(data)} data bytes (expected 3)")
    try:
        msg = build_meta_message(meta_type, list(data))
    except (ValueError, LookupError, TypeError, KeySignatureError):
        # A known meta type with impossible contents (a key signature of 9 sharps, say). Nothing
        # here plays it, so it is kept as unknown rather than failing the file.
        msg = mido.UnknownMetaMessage(meta_type, data)
    msg.time = delta
    return msg


# --- time -----------------------------------------------------------------------------------------


def decode_division(division: int) -> tuple[str, int, Fraction]:
    """Decode the header's division: ('beat', ticks_per_beat, 0) or ('smpte', ticks_per_frame, fps).

    Takes the signed 16-bit value mido stores in MidiFile.ticks_per_beat (negative = SMPTE).
    """
    raw = division & 0xFFFF
    if raw & 0x8000:
        # High byte: minus the frame rate, two's complement; low byte: ticks per frame.
        fps_code = 256 - (raw >> 8)
        ticks_per_frame = raw & 0xFF
        if fps_code not in SMPTE_FPS:
            raise ValueError(f"unknown SMPTE frame rate {fps_code} in the time division")
        if ticks_per_frame == 0:
            raise ValueError("time division of 0 ticks per SMPTE frame")
        return "smpte", ticks_per_frame, SMPTE_FPS[fps_code]
    if raw == 0:
        raise ValueError("time division of 0 ticks per beat")
    return "beat", raw, Fraction(0)


def describe_division(division: int) -> str:
    """'480 ticks per beat', '25 fps x 40' or '29.97 fps x 80' (ticks per frame)."""
    kind, ticks, fps = decode_division(division)
    if kind == "beat":
        return f"{ticks} ticks per beat"
    fps_text = str(fps.numerator) if fps.denominator == 1 else f"{float(fps):.2f}"
    return f"{fps_text} fps x {ticks}"


class _Timeline(NamedTuple):
    events: list[tuple[int, int, int, object]]  # (time numerator, track, index in track, message)
    denominator: int  # seconds = numerator / denominator, one denominator for the whole file
    end: int  # numerator of the latest event of any kind (the last end_of_track, usually)
    first_tempo_us: int | None  # tempo at the start (of the first track for type 2); None for SMPTE


def _tempo_map(changes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Segments (start tick, start numerator, tempo) from (tick, tempo) changes in time order.

    The numerator counts in units of 1 / (ticks_per_beat * 1e6) s: a tick at tempo T us/beat adds T.
    Changes at one tick: the last one wins, the earlier ones become empty segments.
    """
    segments = [(0, 0, DEFAULT_TEMPO_US)]
    for tick, tempo in changes:
        start_tick, start_num, current = segments[-1]
        segments.append((tick, start_num + (tick - start_tick) * current, tempo))
    return segments


class _TimeBase(NamedTuple):
    denominator: int  # seconds = numerator / denominator, one denominator for the whole file
    scale: int  # SMPTE: numerator = tick * scale
    maps: list[list[tuple[int, int, int]]] | None  # tempo segments per track; None for SMPTE
    first_tempo_us: int | None  # tempo at the start (of the first track for type 2); None for SMPTE


def _time_base_of(midi: mido.MidiFile) -> _TimeBase:
    """The file's time base and tempo maps; one pass that keeps only the tempo changes."""
    try:
        kind, ticks_unit, fps = decode_division(midi.ticks_per_beat)
    except ValueError as e:  # only a MidiFile built elsewhere can get here; read_midi checks this
        raise MidiFileError(f"{midi.filename or '<mido.MidiFile>'}: {e}") from None
    if kind == "smpte":
        # Real time per tick, tempo events play no part: s = tick / (fps * ticks_per_frame).
        return _TimeBase(fps.numerator * ticks_unit, fps.denominator, None, None)

    def changes_of(indexes: list[int]) -> list[tuple[int, int]]:
        found = []
        for i in indexes:
            tick = 0
            for msg in midi.tracks[i]:
                tick += int(msg.time)
                if msg.type == "set_tempo":
                    found.append((tick, msg.tempo))
        found.sort(key=lambda change: change[0])  # stable: track order, then position
        return found

    if midi.type == 2:
        # Type 2 tracks are independent sequences: each keeps its own tempo from time 0.
        maps = [_tempo_map(changes_of([i])) for i in range(len(midi.tracks))]
    else:
        shared = _tempo_map(changes_of(list(range(len(midi.tracks)))))
        maps = [shared] * len(midi.tracks)
    first = maps[0] if maps else [(0, 0, DEFAULT_TEMPO_US)]
    first_tempo = [tempo for tick, _, tempo in first if tick == 0][-1]
    return _TimeBase(ticks_unit * US_PER_SECOND, 1, maps, first_tempo)


def _track_times(midi: mido.MidiFile, base: _TimeBase, t: int) -> Iterator[tuple[int, int, mido.Message]]:
    """(time numerator, index in track, message) for every message of track t, in track order."""
    segments = base.maps[t] if base.maps is not None else None
    seg = 0
    tick = 0
    for j, msg in enumerate(midi.tracks[t]):
        tick += int(msg.time)
        if segments is None:
            yield tick * base.scale, j, msg
            continue
        # Ticks only grow along a track, so the segment index only moves forward.
        while seg + 1 < len(segments) and segments[seg + 1][0] <= tick:
            seg += 1
        start_tick, start_num, tempo = segments[seg]
        yield start_num + (tick - start_tick) * tempo, j, msg


def _timeline(midi: mido.MidiFile) -> _Timeline:
    base = _time_base_of(midi)
    events = []
    end = 0
    for t in range(len(midi.tracks)):
        for num, j, msg in _track_times(midi, base, t):
            if msg.type in CHANNEL_TYPES:
                events.append((num, t, j, msg))
            end = max(end, num)
    return _Timeline(events, base.denominator, end, base.first_tempo_us)


def _sort_key(event: tuple[int, int, int, object]) -> tuple[int, int, int, int]:
    time, track, index, msg = event
    return time, 0 if is_note_off(msg) else 1, track, index


def _round_ratio(num: int, den: int) -> int:
    """round(num / den) for positive den, exactly, halves to even like Python's round()."""
    q, r = divmod(num, den)
    twice = 2 * r
    if twice > den or (twice == den and q % 2 == 1):
        q += 1
    return q


def timed_events(midi: mido.MidiFile | str | os.PathLike[str] | bytes, rate_hz: float) -> list[TimedEvent]:
    """Every channel message of the file, stamped with its frame at rate_hz and sorted.

    Kept: note_on, note_off, control_change, program_change, pitchwheel, aftertouch, polytouch.
    Dropped: meta events (tempo is applied to the frames) and sysex.
    Type 0 and 1 files share one tempo map built from every track's set_tempo; in a type 2 file
    each track starts at frame 0 with its own tempo. frame = round(seconds * rate_hz), with the
    seconds exact. Order: by frame; at one frame note-offs (note_off, or note_on with velocity 0)
    before everything else, so a repeated key ends before it starts again; otherwise file order,
    track by track. The messages are copies with time = 0.
    """
    return list(EventStream(midi, rate_hz))


class EventStream:
    """The events of timed_events, made one at a time as they are iterated, in the same order.

    A render walks the file once without a list of every event beside the file itself, so its
    memory does not grow with the song's length. Iterating again starts again from the start.
    `last_frame` is the frame of the last event (None when there is none); `end_frame` is the
    frame of the song's end, its latest event of any kind (end of track, usually), for type 0 and
    1 files, and None for type 2, whose tracks are separate sequences.
    """

    def __init__(self, midi: mido.MidiFile | str | os.PathLike[str] | bytes, rate_hz: float) -> None:
        self.midi = read_midi(midi)
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, not {rate_hz}")
        self.rate_hz = rate_hz
        self._base = _time_base_of(self.midi)
        rate_num, rate_den = Fraction(rate_hz).as_integer_ratio()  # exact, even for a float rate
        self._rate_num = rate_num
        self._den = self._base.denominator * rate_den
        last = None
        end = 0
        for t in range(len(self.midi.tracks)):
            for num, _, msg in _track_times(self.midi, self._base, t):
                if msg.type in CHANNEL_TYPES:
                    last = num if last is None else max(last, num)
                end = max(end, num)
        self.last_frame = None if last is None else self._frame(last)
        self.end_frame = None if self.midi.type == 2 else self._frame(end)

    def _frame(self, num: int) -> int:
        return _round_ratio(num * self._rate_num, self._den)

    def __bool__(self) -> bool:
        return self.last_frame is not None

    def _track(self, t: int) -> Iterator[tuple[int, int, int, int, mido.Message]]:
        """Track t's channel events as (frame, 0 for a note-off else 1, track, index, message), sorted.

        Along a track frames never decrease, so only the events of one frame need sorting among
        themselves (note-offs first).
        """
        group: list[tuple[int, int, int, int, mido.Message]] = []
        for num, j, msg in _track_times(self.midi, self._base, t):
            if msg.type not in CHANNEL_TYPES:
                continue
            frame = self._frame(num)
            if group and group[0][0] != frame:
                group.sort(key=_group_key)
                yield from group
                group = []
            group.append((frame, 0 if is_note_off(msg) else 1, t, j, msg))
        group.sort(key=_group_key)
        yield from group

    def __iter__(self) -> Iterator[TimedEvent]:
        tracks = [self._track(t) for t in range(len(self.midi.tracks))]
        for frame, _, t, _, msg in heapq.merge(*tracks, key=_group_key):
            yield TimedEvent(frame, t, msg.copy(skip_checks=True, time=0))


class PackedEvents:
    """The events of an EventStream packed into three flat arrays: 13 bytes an event, where the
    parsed file takes some 270 a message. Iterating gives the same TimedEvents as the stream.

    A render that packs its events and lets the mido.MidiFile go holds memory that hardly grows with
    the song's length (synth.midifile.pack_events; the command line does this).
    """

    def __init__(self, stream: EventStream) -> None:
        self.rate_hz = stream.rate_hz
        self.last_frame = stream.last_frame
        self.end_frame = stream.end_frame
        self.filename = stream.midi.filename
        self._frames = array("q")
        self._tracks = array("H")  # a file holds at most 65,535 tracks (a 16-bit count)
        self._data = bytearray()  # three bytes an event: status and data, padded with 0
        for event in stream:
            self._frames.append(event.frame)
            self._tracks.append(event.track)
            data = event.message.bytes()
            self._data += bytes(data) + bytes(3 - len(data))

    def __len__(self) -> int:
        return len(self._frames)

    def __bool__(self) -> bool:
        return len(self._frames) > 0

    def __iter__(self) -> Iterator[TimedEvent]:
        data = self._data
        for i, (frame, track) in enumerate(zip(self._frames, self._tracks, strict=True)):
            status = data[3 * i]
            n_bytes = 1 + _CHANNEL_DATA_BYTES[status & 0xF0]
            yield TimedEvent(frame, track, mido.Message.from_bytes(data[3 * i:3 * i + n_bytes]))


def pack_events(midi: mido.MidiFile | str | os.PathLike[str] | bytes, rate_hz: float) -> PackedEvents:
    """The file's timed events (as timed_events gives them) packed small: see PackedEvents."""
    return PackedEvents(EventStream(midi, rate_hz))


def _group_key(event: tuple[int, int, int, int, mido.Message]) -> tuple[int, int, int, int]:
    return event[:4]


def end_frame(midi: mido.MidiFile | str | os.PathLike[str] | bytes, rate_hz: float) -> int | None:
    """The frame of the song's end (its latest event of any kind); None for a type 2 file."""
    return EventStream(midi, rate_hz).end_frame


# --- summary --------------------------------------------------------------------------------------


def describe(midi: mido.MidiFile | str | os.PathLike[str] | bytes, n_voices: int) -> dict:
    """A summary of a MIDI file for `liquidsky info`.

    Keys:
      format          0, 1 or 2
      duration_s      time of the last note's release (its note-off, or the pedal-up or all-notes-off
                      that ends it); a note never released lasts to the end of its file; 0.0 if no notes
      n_tracks        number of tracks
      channels        sorted 1-based channels that play at least one note
      programs        {1-based channel: program numbers (0-127, as sent) in order of first use}
      n_notes         note-ons with velocity > 0
      peak_polyphony  most notes sounding at once, a note held by the sustain pedal (CC64 >= 64)
                      counting until the pedal goes up; release tails are not counted
      notes_stolen    note-ons that find n_voices notes already sounding, so that a profile with
                      n_voices cards (synth.allocator.POLICY) must steal; release tails ignored
      tempo_bpm_first tempo at the start in BPM (120.0 if the file sets none); None for SMPTE timing
      time_division   '480 ticks per beat' or '25 fps x 40'
    """
    midi = read_midi(midi)
    timeline = _timeline(midi)
    events = sorted(timeline.events, key=_sort_key)
    n_notes = sum(1 for _, _, _, msg in events if msg.type == "note_on" and msg.velocity > 0)

    # Two allocators replay the file with release tails cut to nothing (a released card is freed
    # at once): one too large to ever steal measures the polyphony, one of n_voices counts steals.
    unbounded = Allocator(max(n_notes, 1))
    limited = Allocator(n_voices)
    pools = (unbounded, limited)

    channels: set[int] = set()
    programs: dict[int, list[int]] = {}
    peak = 0
    stolen = 0
    last_release = 0

    def release(cards_per_pool: list[list[int]], num: int) -> None:
        nonlocal last_release
        for pool, cards in zip(pools, cards_per_pool, strict=True):
            for card in cards:
                pool.free(card)
        if cards_per_pool[0]:
            last_release = max(last_release, num)

    for num, track, _, msg in events:
        kind = msg.type
        if is_note_on(msg):
            channels.add(msg.channel + 1)
            unbounded.note_on(track, msg.channel, msg.note)
            _, taken = limited.note_on(track, msg.channel, msg.note)
            stolen += taken is not None
            peak = max(peak, unbounded.n_busy)
        elif kind in ("note_on", "note_off", "control_change"):
            release([pool.follow(track, msg) for pool in pools], num)
        elif kind == "program_change":
            used = programs.setdefault(msg.channel + 1, [])
            if msg.program not in used:
                used.append(msg.program)

    end = timeline.end if unbounded.n_busy else last_release
    tempo = timeline.first_tempo_us
    return {
        "format": midi.type,
        "duration_s": end / timeline.denominator if n_notes else 0.0,
        "n_tracks": len(midi.tracks),
        "channels": sorted(channels),
        "programs": dict(sorted(programs.items())),
        "n_notes": n_notes,
        "peak_polyphony": peak,
        "notes_stolen": stolen,
        "tempo_bpm_first": round(60 * US_PER_SECOND / tempo, 3) if tempo else None,
        "time_division": describe_division(midi.ticks_per_beat),
    }


def track_from_events(events: list[tuple[int, int, mido.BaseMessage]]) -> mido.MidiTrack:
    """A mido track from (absolute tick, order at that tick, message) events, sorted by both."""
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    return track
