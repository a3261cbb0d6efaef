"""A score: notes in ticks on named parts, with its tempo, metre and key maps; to and from MIDI files."""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import mido

from scores.theory import TheoryError, best_key, key_name, parse_key_name, pitch_class_weights
from scores.theory import pitch_name as pitch_name  # re-exported: scores.score has always named keys
from synth.midi import CC, DRUM_CHANNEL, ENDS_ALL_NOTES, is_note_off, is_note_on
from synth.midifile import decode_division, track_from_events

# 480 ticks per quarter note: divisible by 2, 3, 4, 5, 6, 8, 10, 12, 16 and 32, so triplets, quintuplets and
# sixty-fourth notes are all whole ticks. Every score of the package and every score read from a file uses it.
TICKS_PER_BEAT = 480
BEND_RANGE_SEMITONES = 2  # General MIDI's default; set again by RPN 0 on every part that bends
BEND_MAX = 8191  # the pitch wheel's 14 bits, centred on 0 as mido counts them

# What each part is for, so that transformations can choose their parts in any score:
# "ground" (the piece's one fixed figure, a bass or bell figure that every style keeps as written and a
# march leaves on its own metre), "ostinato" (a repeated figure of the piece that a style varies with the
# form but never re-pitches nor thins), "melody", "inner", "bass", "drums", "pedal" (a held drone), "shadow"
# (a soft copy a transformation added).
ROLES = ("ground", "melody", "inner", "bass", "drums", "pedal", "shadow", "ostinato")
_ROLE_PREFIX = "role: "  # a text meta event carrying a part's role through a MIDI file

MODES = ("major", "minor")


class ScoreError(ValueError):
    """A score that cannot be made or written: a part or channel that does not exist, a note out of range."""


@dataclass(frozen=True)
class Part:
    """One instrument of a score, on a MIDI channel of its own."""

    name: str
    channel: int  # 0-15; 9 is the drum kit
    program: int = 0  # General MIDI program 0-127; the drum channel ignores it
    role: str = "inner"
    volume: int = 100  # controller 7
    pan: int = 64  # controller 10, 64 = centre
    bend_cents: float = 0.0  # a fixed detune through the pitch wheel, within +-200 cents

    def __post_init__(self) -> None:
        if not 0 <= self.channel <= 15:
            raise ScoreError(f"part {self.name!r}: channel {self.channel} is outside 0-15")
        if not 0 <= self.program <= 127:
            raise ScoreError(f"part {self.name!r}: program {self.program} is outside 0-127")
        if self.role not in ROLES:
            raise ScoreError(f"part {self.name!r}: unknown role {self.role!r} (roles: {', '.join(ROLES)})")
        if abs(self.bend_cents) > 100 * BEND_RANGE_SEMITONES:
            raise ScoreError(f"part {self.name!r}: a bend of {self.bend_cents:g} cents is beyond the wheel's "
                             f"+-{100 * BEND_RANGE_SEMITONES} cents")

    @property
    def is_drums(self) -> bool:
        return self.channel == DRUM_CHANNEL


@dataclass(frozen=True, order=True)
class Note:
    """One note: where it starts and how long it lasts, in ticks; its key and velocity; its part's name."""

    start: int
    duration: int
    pitch: int
    velocity: int
    part: str

    @property
    def end(self) -> int:
        return self.start + self.duration


CONTROL_KINDS = ("control", "pitchwheel", "aftertouch", "program")


@dataclass(frozen=True, order=True)
class Control:
    """A controller event of a part at a tick: a control change (its number and value), a pitch bend (value
    -8192..8191), channel aftertouch or a program change (value 0-127), as a MIDI file carried it."""

    tick: int
    part: str
    kind: str = "control"
    number: int = 0  # the controller's number, for a control change
    value: int = 0


@dataclass(frozen=True)
class Key:
    """A key from a tick on: tonic pitch class (0 = C) and mode."""

    tick: int
    tonic_pc: int
    mode: str = "minor"

    @property
    def name(self) -> str:
        return key_name(self.tonic_pc, self.mode)


@dataclass(frozen=True)
class Score:
    """A piece: its parts, its notes (sorted), and its tempo, metre and key maps, all in ticks.

    Frozen: a transformation makes a new score with `replace` or `with_notes`.
    """

    title: str
    parts: tuple[Part, ...]
    notes: tuple[Note, ...]
    tempos: tuple[tuple[int, float], ...] = ((0, 120.0),)  # (tick, quarter notes per minute)
    metres: tuple[tuple[int, int, int], ...] = ((0, 4, 4),)  # (tick, numerator, denominator); on bar lines
    keys: tuple[Key, ...] = ()
    # The sections of the form as the score's source marks them: (tick, name), in order; written to a MIDI
    # file as marker events. Styles read them (scores.analysis.read_sections), or find sections themselves.
    sections: tuple[tuple[int, str], ...] = ()
    controls: tuple[Control, ...] = ()  # a foreign file's pedal, controllers and bends, kept as they came
    after: str = ""  # "Marais", say: whose music the score is after, or ""
    end: int = 0  # the tick where the piece ends; at least the last note's end (set by the constructor)
    ticks_per_beat: int = field(default=TICKS_PER_BEAT, init=False)

    def __post_init__(self) -> None:
        names = [p.name for p in self.parts]
        if len(set(names)) != len(names):
            raise ScoreError(f"{self.title}: two parts share a name")
        on_channel: dict[int, Part] = {}
        for p in self.parts:  # parts may share a channel (tracks of a file) if they sound alike on it
            other = on_channel.setdefault(p.channel, p)
            if (other.program, other.bend_cents) != (p.program, p.bend_cents):
                raise ScoreError(f"{self.title}: two parts share MIDI channel {p.channel + 1} with different "
                                 f"programs or bends")
        known = set(names)
        for c in self.controls:
            if c.part not in known:
                raise ScoreError(f"{self.title}: a controller on part {c.part!r}, which the score does not have")
            if c.kind not in CONTROL_KINDS:
                raise ScoreError(f"{self.title}: unknown controller kind {c.kind!r}")
        for note in self.notes:
            if note.part not in known:
                raise ScoreError(f"{self.title}: a note on part {note.part!r}, which the score does not have")
            if not 0 <= note.pitch <= 127:
                raise ScoreError(f"{self.title}: key {note.pitch} on part {note.part!r} is outside 0-127")
            if not 1 <= note.velocity <= 127:
                raise ScoreError(f"{self.title}: velocity {note.velocity} on part {note.part!r} is outside 1-127")
            if note.duration <= 0 or note.start < 0:
                raise ScoreError(f"{self.title}: a note on part {note.part!r} at tick {note.start} has no length")
        object.__setattr__(self, "notes", tuple(sorted(self.notes, key=_note_order)))
        object.__setattr__(self, "controls", tuple(sorted(self.controls, key=lambda c: c.tick)))
        last = max((n.end for n in self.notes), default=0)
        object.__setattr__(self, "end", max(self.end, last))
        if not self.tempos or self.tempos[0][0] != 0:
            object.__setattr__(self, "tempos", ((0, 120.0), *self.tempos))
        if not self.metres or self.metres[0][0] != 0:
            object.__setattr__(self, "metres", ((0, 4, 4), *self.metres))

    # --- making new scores ---

    def replace(self, **changes) -> Score:
        """A copy with some fields changed; the piece's end stays unless given (it grows to the last note)."""
        changes.setdefault("end", self.end)
        return dataclasses.replace(self, **changes)

    def with_notes(self, notes: Iterable[Note], parts: Iterable[Part] | None = None) -> Score:
        """A copy with these notes (and parts), keeping the piece's end if the notes end sooner."""
        return dataclasses.replace(self, notes=tuple(notes), parts=self.parts if parts is None else tuple(parts),
                                   end=self.end)

    def until(self, tick: int) -> Score:
        """The score cut at a tick: the notes that start before it, shortened to end there."""
        kept = [dataclasses.replace(n, duration=min(n.duration, tick - n.start)) for n in self.notes if n.start < tick]
        return dataclasses.replace(self, notes=tuple(kept), end=min(self.end, tick),
                                   tempos=tuple(t for t in self.tempos if t[0] < tick) or self.tempos[:1],
                                   metres=tuple(m for m in self.metres if m[0] < tick) or self.metres[:1],
                                   keys=tuple(k for k in self.keys if k.tick < tick) or self.keys[:1],
                                   sections=tuple(s for s in self.sections if s[0] < tick),
                                   controls=tuple(c for c in self.controls if c.tick < tick))

    def tick_at(self, seconds: float) -> int:
        """The tick sounding at a time in seconds, through the tempo map."""
        elapsed = 0.0
        for i, (start, bpm) in enumerate(self.tempos):
            stop = self.tempos[i + 1][0] if i + 1 < len(self.tempos) else None
            span_s = None if stop is None else (stop - start) / self.ticks_per_beat * 60.0 / bpm
            if span_s is None or elapsed + span_s > seconds:
                return start + round((seconds - elapsed) * bpm / 60.0 * self.ticks_per_beat)
            elapsed += span_s
        return 0

    # --- parts ---

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise ScoreError(f"{self.title}: no part named {name!r}")

    def parts_with_role(self, *roles: str) -> list[Part]:
        return [p for p in self.parts if p.role in roles]

    def notes_of(self, name: str) -> list[Note]:
        return [n for n in self.notes if n.part == name]

    def pitched_parts(self) -> list[Part]:
        """Every part but the drum kit."""
        return [p for p in self.parts if not p.is_drums]

    def free_channel(self) -> int | None:
        """The lowest channel no part uses, never the drum channel; None when all fifteen are taken."""
        used = {p.channel for p in self.parts}
        return next((c for c in range(16) if c != DRUM_CHANNEL and c not in used), None)

    # --- time ---

    def beats(self, ticks: int) -> float:
        return ticks / self.ticks_per_beat

    def ticks(self, beats: float) -> int:
        return round(beats * self.ticks_per_beat)

    def bar_ticks(self, numerator: int, denominator: int) -> int:
        """The length of one bar of this metre in ticks (a beat is a quarter note)."""
        return self.ticks_per_beat * 4 * numerator // denominator

    def bar_starts(self, until: int | None = None) -> list[int]:
        """The tick of every bar line from 0 up to (not including) `until`, the piece's end by default."""
        until = self.end if until is None else until
        starts: list[int] = []
        for i, (tick, num, den) in enumerate(self.metres):
            stop = self.metres[i + 1][0] if i + 1 < len(self.metres) else until
            step = self.bar_ticks(num, den)
            t = tick
            while t < min(stop, until):
                starts.append(t)
                t += step
        return starts

    def metre_at(self, tick: int) -> tuple[int, int]:
        i = bisect_right([m[0] for m in self.metres], tick) - 1
        return self.metres[max(i, 0)][1:]

    def tempo_at(self, tick: int) -> float:
        i = bisect_right([t[0] for t in self.tempos], tick) - 1
        return self.tempos[max(i, 0)][1]

    def key_at(self, tick: int) -> Key | None:
        if not self.keys:
            return None
        i = bisect_right([k.tick for k in self.keys], tick) - 1
        return self.keys[max(i, 0)]

    def seconds(self, tick: int) -> float:
        """The time of a tick in seconds, through the tempo map."""
        total = 0.0
        for i, (start, bpm) in enumerate(self.tempos):
            stop = self.tempos[i + 1][0] if i + 1 < len(self.tempos) else None
            if stop is not None and tick >= stop:
                total += (stop - start) / self.ticks_per_beat * 60.0 / bpm
                continue
            return total + (tick - start) / self.ticks_per_beat * 60.0 / bpm
        return total

    @property
    def duration_s(self) -> float:
        return self.seconds(self.end)

    # --- measures of the music ---

    def max_polyphony(self) -> int:
        """The most notes sounding at once (a note ending where another starts does not overlap it)."""
        edges = sorted([(n.start, 1) for n in self.notes] + [(n.end, -1) for n in self.notes])
        most = now = 0
        for _, step in edges:
            now += step
            most = max(most, now)
        return most


def _note_order(note: Note) -> tuple[int, str, int, int, int]:
    return note.start, note.part, note.pitch, note.duration, note.velocity


def key_from_name(name: str, tick: int = 0) -> Key:
    """Key(tick, 2, 'minor') for 'Dm', as MIDI key signatures (and mido) name keys."""
    try:
        tonic_pc, mode = parse_key_name(name)
    except TheoryError:
        raise ScoreError(f"unknown key {name!r}") from None
    return Key(tick, tonic_pc, mode)


# --- to a MIDI file ----------------------------------------------------------------------------------


def to_midi(score: Score) -> mido.MidiFile:
    """The score as a type-1 MIDI file: a conductor track (title, tempo, metre, keys, section markers), then a
    track a part.

    Each part's track names the part, carries its role as a text event, and sets its program, volume, pan
    and fixed bend before its first note, then its controllers (Score.controls) at their ticks. A note that
    starts while the same key still sounds on the same part cuts the earlier one short, as a keyboard player
    would; two that start together both sound; at equal ticks note-offs come first.
    """
    midi = mido.MidiFile(type=1, ticks_per_beat=score.ticks_per_beat)
    conductor: list[tuple[int, int, mido.MetaMessage]] = [(0, 0, mido.MetaMessage("track_name", name=score.title))]
    if score.after:
        conductor.append((0, 0, mido.MetaMessage("text", text=f"after {score.after}")))
    for tick, bpm in score.tempos:
        conductor.append((tick, 1, mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm))))
    for tick, num, den in score.metres:
        conductor.append((tick, 1, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
    for key in score.keys:
        conductor.append((key.tick, 1, mido.MetaMessage("key_signature", key=key.name)))
    for tick, name in score.sections:
        conductor.append((tick, 1, mido.MetaMessage("marker", text=name)))
    conductor.append((score.end, 2, mido.MetaMessage("end_of_track")))
    midi.tracks.append(track_from_events(conductor))

    by_part: dict[str, list[Note]] = defaultdict(list)
    for note in score.notes:
        by_part[note.part].append(note)
    by_part_controls: dict[str, list[Control]] = defaultdict(list)
    for c in score.controls:
        by_part_controls[c.part].append(c)
    for part in score.parts:
        ch = part.channel
        events: list[tuple[int, int, mido.BaseMessage]] = [
            (0, 0, mido.MetaMessage("track_name", name=part.name)),
            (0, 0, mido.MetaMessage("text", text=_ROLE_PREFIX + part.role)),
        ]
        if not part.is_drums:
            events.append((0, 1, mido.Message("program_change", channel=ch, program=part.program)))
        events.append((0, 1, mido.Message("control_change", channel=ch, control=7, value=part.volume)))
        events.append((0, 1, mido.Message("control_change", channel=ch, control=10, value=part.pan)))
        if part.bend_cents:
            # RPN 0 (pitch-bend sensitivity), data entry MSB in semitones, then the RPN closed again.
            for control, value in ((101, 0), (100, 0), (6, BEND_RANGE_SEMITONES), (38, 0), (101, 127), (100, 127)):
                events.append((0, 1, mido.Message("control_change", channel=ch, control=control, value=value)))
            wheel = round(part.bend_cents / (100 * BEND_RANGE_SEMITONES) * BEND_MAX)
            wheel = max(-BEND_MAX - 1, min(BEND_MAX, wheel))
            events.append((0, 1, mido.Message("pitchwheel", channel=ch, pitch=wheel)))
        for c in by_part_controls.get(part.name, ()):
            events.append((c.tick, 1, _control_message(c, ch)))
        for start, end, note in _cut_overlaps(by_part.get(part.name, [])):
            # note-offs sort before note-ons at the same tick (order 2 before 3)
            events.append((start, 3, mido.Message("note_on", channel=ch, note=note.pitch, velocity=note.velocity)))
            events.append((end, 2, mido.Message("note_off", channel=ch, note=note.pitch, velocity=0)))
        events.append((score.end, 4, mido.MetaMessage("end_of_track")))
        midi.tracks.append(track_from_events(events))
    return midi


def _control_message(c: Control, channel: int) -> mido.Message:
    if c.kind == "pitchwheel":
        return mido.Message("pitchwheel", channel=channel, pitch=max(-8192, min(8191, c.value)))
    if c.kind == "aftertouch":
        return mido.Message("aftertouch", channel=channel, value=c.value)
    if c.kind == "program":
        return mido.Message("program_change", channel=channel, program=c.value)
    return mido.Message("control_change", channel=channel, control=c.number, value=c.value)


def _cut_overlaps(notes: list[Note]) -> Iterator[tuple[int, int, Note]]:
    """(start, end, note) with each note ended where the next note on the same key begins, if sooner; notes
    that begin together on one key each keep their own end."""
    by_key: dict[int, list[Note]] = defaultdict(list)
    for n in notes:
        by_key[n.pitch].append(n)
    for same_key in by_key.values():
        same_key.sort(key=lambda n: (n.start, -n.duration))
        for i, n in enumerate(same_key):
            end = n.end
            for later in same_key[i + 1:]:
                if later.start > n.start:
                    end = min(end, later.start)
                    break
            yield n.start, end, n  # a unison struck twice at one tick (two voices of a file) stays two notes


# --- from a MIDI file --------------------------------------------------------------------------------


def from_midi(midi: mido.MidiFile, title: str = "") -> Score:
    """A score from any MIDI file: one part per channel of each track that has notes, times rescaled to 480
    ticks a beat, every note kept (a note of no length, as drum tracks often write them, lasts one tick).

    Part names come from track names (else "channel N"; a track on several channels, or names taken twice,
    get the channel or a number added), programs from the first program change on the channel, volume and
    pan from its first controllers 7 and 10 and a fixed detune from a pitch bend before its first note (read
    with the 2-semitone range); every other controller event, pitch bend, aftertouch and later program
    change is kept as a Control of its part (on the part of its own track and channel, else the first part
    on its channel). Roles come from the text events `to_midi` writes, else are guessed: the drum channel is
    "drums", the lowest-sounding part "bass", the highest "melody". Key signatures become the key map (a file
    without any gets one key, estimated from its notes: scores.theory.best_key), markers the sections.
    SMPTE-timed files are read as if at 120 beats a minute, so that their seconds stay the same. A type-2
    file's tracks all start at 0, as in type 1. Parts that share a channel share its program.
    """
    kind, resolution, fps = decode_division(midi.ticks_per_beat)
    if kind == "smpte":
        # ticks are 1 / (fps * ticks_per_frame) s; at 120 BPM a beat is 0.5 s
        scale = TICKS_PER_BEAT / (float(fps) * resolution * 0.5)
    else:
        scale = TICKS_PER_BEAT / resolution

    def at(tick: int) -> int:
        return round(tick * scale)

    tempos: dict[int, float] = {}
    metres: dict[int, tuple[int, int]] = {}
    keys: dict[int, str] = {}
    markers: dict[int, str] = {}
    track_names: dict[int, str] = {}
    roles: dict[int, str] = {}
    programs: dict[int, int] = {}
    volumes: dict[int, int] = {}
    pans: dict[int, int] = {}
    bends: dict[int, int] = {}
    struck: set[int] = set()  # channels that have begun a note
    # (track, channel) -> its notes; controller events as (tick, order, track, channel, kind, number, value)
    notes_by_voice: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
    controls: list[tuple[int, int, int, int, str, int, int]] = []
    file_title = ""
    after = ""
    end = 0
    for number, track in enumerate(midi.tracks):
        tick = 0
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for order, msg in enumerate(track):
            tick += msg.time
            t = at(tick)
            end = max(end, t)
            if msg.is_meta:
                if msg.type == "set_tempo" and kind == "beat":
                    tempos[t] = round(60_000_000 / max(msg.tempo, 1), 3)
                elif msg.type == "time_signature":
                    metres[t] = (msg.numerator, msg.denominator)
                elif msg.type == "key_signature":
                    keys[t] = msg.key
                elif msg.type == "marker" and msg.text.strip():
                    markers.setdefault(t, msg.text.strip())
                elif msg.type == "track_name":
                    track_names[number] = msg.name.strip()
                elif msg.type == "text" and msg.text.startswith(_ROLE_PREFIX):
                    roles[number] = msg.text[len(_ROLE_PREFIX):].strip()
                elif msg.type == "text" and msg.text.startswith("after ") and number == 0:
                    after = msg.text[len("after "):].strip()
                continue
            if not hasattr(msg, "channel"):
                continue
            ch = msg.channel
            if msg.type == "program_change":
                if ch in programs and ch in struck:
                    controls.append((t, order, number, ch, "program", 0, msg.program))
                programs.setdefault(ch, msg.program)
            elif msg.type == "control_change" and msg.control == CC.VOLUME and ch not in volumes:
                volumes[ch] = msg.value
            elif msg.type == "control_change" and msg.control == CC.PAN and ch not in pans:
                pans[ch] = msg.value
            elif msg.type == "pitchwheel" and ch not in struck:
                bends[ch] = msg.pitch  # a bend set before the part's first note is a fixed detune
            elif msg.type == "control_change":
                controls.append((t, order, number, ch, "control", msg.control, msg.value))
                if msg.control in ENDS_ALL_NOTES:  # every key of the channel up, as the engine hears it
                    for (key_ch, pitch), started in sounding.items():
                        if key_ch == ch:
                            for start, velocity in started:
                                notes_by_voice[number, ch].append((start, max(t - start, 1), pitch, velocity))
                            started.clear()
            elif msg.type == "pitchwheel":
                controls.append((t, order, number, ch, "pitchwheel", 0, msg.pitch))
            elif msg.type == "aftertouch":
                controls.append((t, order, number, ch, "aftertouch", 0, msg.value))
            elif is_note_on(msg):
                sounding[ch, msg.note].append((t, msg.velocity))
                struck.add(ch)
            elif is_note_off(msg):
                started = sounding[ch, msg.note]
                if started:
                    start, velocity = started.pop(0)  # the oldest instance of the key ends first
                    notes_by_voice[number, ch].append((start, max(t - start, 1), msg.note, velocity))
        for (ch, pitch), started in sounding.items():  # notes never released end with the file (below)
            for start, velocity in started:
                notes_by_voice[number, ch].append((start, -1, pitch, velocity))
        if number == 0 and midi.type == 1 and number in track_names and not any(
                v[0] == 0 for v in notes_by_voice):
            file_title = track_names[number]
    for voice, ns in notes_by_voice.items():
        notes_by_voice[voice] = [(s, max(end - s, 1) if d < 0 else d, p, v) for s, d, p, v in ns]

    voices = sorted(notes_by_voice, key=lambda v: (v[1], v[0]))  # by channel, then track
    channels_of: dict[int, list[int]] = defaultdict(list)
    for number, ch in voices:
        channels_of[number].append(ch)
    names: dict[tuple[int, int], str] = {}
    for number, ch in voices:
        name = track_names.get(number) or f"channel {ch + 1}"
        if track_names.get(number) and len(channels_of[number]) > 1:
            name = f"{name} (channel {ch + 1})"
        if name in names.values():
            name = f"{name} (channel {ch + 1})"
        base, n = name, 2
        while name in names.values():
            name, n = f"{base} {n}", n + 1
        names[number, ch] = name
    guessed = _guess_roles({v: notes_by_voice[v] for v in voices})
    parts = [
        Part(names[v], v[1], programs.get(v[1], 0), roles[v[0]] if roles.get(v[0]) in ROLES else guessed[v],
             volumes.get(v[1], 100), pans.get(v[1], 64),
             round(bends.get(v[1], 0) / BEND_MAX * 100 * BEND_RANGE_SEMITONES, 1))
        for v in voices
    ]
    notes = [Note(s, d, p, v, names[voice]) for voice in voices for s, d, p, v in notes_by_voice[voice]]
    first_on_channel: dict[int, str] = {}
    for v in voices:
        first_on_channel.setdefault(v[1], names[v])
    kept = []
    for t, _order, number, ch, kind_, control, value in sorted(controls):
        part = names.get((number, ch), first_on_channel.get(ch))
        if part is not None:
            kept.append(Control(t, part, kind_, control, value))
    score = Score(
        title=title or file_title or "untitled",
        parts=tuple(parts),
        notes=tuple(notes),
        tempos=tuple(sorted(tempos.items())) or ((0, 120.0),),
        metres=tuple((t, n, d) for t, (n, d) in sorted(metres.items())) or ((0, 4, 4),),
        keys=tuple(_keys(keys)),
        sections=tuple(sorted(markers.items())),
        controls=tuple(kept),
        after=after,
        end=end,
    )
    if not score.keys and any(not p.is_drums for p in score.parts):
        drums = {p.name for p in score.parts if p.is_drums}
        weights = pitch_class_weights((n.start, n.end, n.pitch) for n in score.notes if n.part not in drums)
        score = score.replace(keys=(Key(0, *best_key(weights)),))
    return score


def _keys(named: dict[int, str]) -> Iterator[Key]:
    for tick, name in sorted(named.items()):
        try:
            yield key_from_name(name, tick)
        except ScoreError:
            continue


def _guess_roles(notes_by_voice: dict) -> dict:
    roles = {v: "drums" if v[1] == DRUM_CHANNEL else "inner" for v in notes_by_voice}
    pitched = {v: sum(n[2] * n[1] for n in ns) / max(sum(n[1] for n in ns), 1)
               for v, ns in notes_by_voice.items() if v[1] != DRUM_CHANNEL and ns}
    if len(pitched) >= 2:
        roles[min(pitched, key=pitched.get)] = "bass"
        roles[max(pitched, key=pitched.get)] = "melody"
    elif pitched:
        roles[next(iter(pitched))] = "melody"
    return roles
