"""A Page R song: patterns of one bar on eight monophonic tracks, a song list with sections, a speed, registers.

Frozen, and checked when made: every range is the CMI's where it is known (pages.md, "R Real Time
Composer": 255 patterns, 255 song steps, sections A-Z of 8 steps, speed 500-65535) and ours where it is
not (repeats 1-255, at most 192 steps a bar, 65,536 bars in the expanded song); each says which.
A problem raises SongError naming the field as the song file spells it (`patterns.3.A`), so that
the file reader can add the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from synth.midi import DRUM_CHANNEL

# --- the CMI's numbers (pages.md, Page R) -----------------------------------------------------------
N_TRACKS = 8  # one per register, A-H (Page 3's eight registers)
TRACK_NAMES = "ABCDEFGH"
MAX_PATTERNS = 255
MAX_SONG_STEPS = 255
MAX_SECTION_STEPS = 8
SECTION_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SPEED_MIN, SPEED_MAX = 500, 65535
SPEED_DEFAULT = 2618  # 120 BPM
SPEED_BPM_PRODUCT = 314160  # BPM = 314160 / speed (pages.md)

# --- ours (the CMI's own limits were not recovered) ---------------------------------------------------
MAX_REPEATS = 255  # a song step plays its pattern 1-255 times (one byte, as the pattern numbers)
MAX_STEPS_PER_BAR = 192  # 1/32 triplets in a bar of 16/4 at most
MAX_EXPANDED_BARS = 65536  # the whole song, sections and repeats expanded: refused beyond (about 9 h at 120 BPM)
VELOCITY_DEFAULT = 100
LEVEL_DEFAULT = 100  # a register's level, sent as MIDI controller 7 (volume)
DRUMS = "drums"  # the voice name of a register on channel 10: the General MIDI kit, a voice per key

# Time grids by note value: the length of one step in quarter notes. "T" is a triplet (three in the
# time of two), as Page R offered the grid by note symbols.
GRIDS: dict[str, Fraction] = {}
for _value in (1, 2, 4, 8, 16, 32):
    GRIDS[f"1/{_value}"] = Fraction(4, _value)
    GRIDS[f"1/{_value}T"] = Fraction(4, _value) * Fraction(2, 3)
del _value
METRE_DENOMINATORS = (1, 2, 4, 8, 16, 32)
METRE_NUMERATOR_MAX = 32


class SongError(ValueError):
    """A song that breaks a rule of Page R; `field` is the song file's path to the value, e.g.
    ("patterns", "3", "A"), empty when the problem is the whole song's."""

    def __init__(self, message: str, field: tuple[str, ...] = ()) -> None:
        self.message = message
        self.field = tuple(field)
        super().__init__(f"{'.'.join(self.field)}: {message}" if self.field else message)


def speed_to_bpm(speed: int) -> float:
    """Quarter notes a minute at a Page R speed: 314160 / speed (2618 -> 120.0)."""
    return SPEED_BPM_PRODUCT / speed


def bpm_to_speed(bpm: float) -> int:
    """The nearest Page R speed to a tempo in quarter notes a minute (120 -> 2618)."""
    if not bpm > 0:
        raise SongError(f"a tempo of {bpm:g} BPM is not above 0")
    return round(SPEED_BPM_PRODUCT / bpm)


def parse_metre(text: str) -> tuple[int, int]:
    """(numerator, denominator) of '3/4'; SongError when it is not a bar Page R can hold."""
    num, sep, den = str(text).partition("/")
    try:
        n, d = int(num), int(den)
    except ValueError:
        n = d = 0
    if not sep or not 1 <= n <= METRE_NUMERATOR_MAX or d not in METRE_DENOMINATORS:
        raise SongError(f"{text!r} is not a metre (N/D, N 1-{METRE_NUMERATOR_MAX}, D one of "
                        f"{', '.join(map(str, METRE_DENOMINATORS))})")
    return n, d


# --- a pattern ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """A note struck at a step: its MIDI key, its velocity, and how much of its last step it sounds.

    The note holds through the ties that follow it; `gate_percent` (1-100) is the part of the step
    where it ends that it sounds (100: up to the next step).
    """

    key: int
    velocity: int = VELOCITY_DEFAULT
    gate_percent: int = 100


@dataclass(frozen=True)
class Tie:
    """A step through which the note before it goes on sounding; `gate_percent` as a Note's."""

    gate_percent: int = 100


Cell = Note | Tie | None  # None: a rest
Track = tuple[Cell, ...]


@dataclass(frozen=True)
class Pattern:
    """One bar: its metre, its grid (a note value from GRIDS), and eight tracks of one cell a step.

    A tie at the first step continues the note its track held to the end of the bar played before
    (a note across a bar line); when there is none, it is silent.
    """

    tracks: tuple[Track, ...]
    grid: str = "1/16"
    metre: tuple[int, int] = (4, 4)
    name: str = ""

    def __post_init__(self) -> None:
        if self.grid not in GRIDS:
            raise SongError(f"unknown grid {self.grid!r} (use one of {', '.join(GRIDS)})", ("grid",))
        n, d = self.metre
        parse_metre(f"{n}/{d}")
        if not isinstance(self.name, str) or "\n" in self.name:
            raise SongError("a pattern's name is one line of text", ("name",))
        steps = self.n_steps  # raises when the grid does not divide the bar
        if len(self.tracks) != N_TRACKS:
            raise SongError(f"a pattern has {N_TRACKS} tracks, not {len(self.tracks)}")
        for letter, track in zip(TRACK_NAMES, self.tracks, strict=True):
            if len(track) != steps:
                raise SongError(f"{len(track)} steps, but a bar of {n}/{d} on a {self.grid} grid has {steps}",
                                (letter,))
            previous: Cell = None
            for i, cell in enumerate(track):
                _check_cell(cell, previous, i, letter)
                previous = cell

    @property
    def step_quarters(self) -> Fraction:
        """One step's length in quarter notes."""
        return GRIDS[self.grid]

    @property
    def bar_quarters(self) -> Fraction:
        n, d = self.metre
        return Fraction(4 * n, d)

    @property
    def n_steps(self) -> int:
        steps = self.bar_quarters / self.step_quarters
        if steps.denominator != 1 or not 1 <= steps <= MAX_STEPS_PER_BAR:
            n, d = self.metre
            raise SongError(f"a bar of {n}/{d} is not a whole number of {self.grid} steps (1-{MAX_STEPS_PER_BAR})",
                            ("grid",))
        return int(steps)

    def is_empty(self) -> bool:
        return all(cell is None for track in self.tracks for cell in track)


def _check_cell(cell: Cell, previous: Cell, index: int, letter: str) -> None:
    where = (letter,)
    step = f"step {index + 1}"
    if cell is None:
        return
    if not isinstance(cell, (Note, Tie)):
        raise SongError(f"{step}: {cell!r} is not a note, a tie or a rest", where)
    if not 1 <= cell.gate_percent <= 100:
        raise SongError(f"{step}: length {cell.gate_percent}% is outside 1-100", where)
    if isinstance(cell, Note):
        if not 0 <= cell.key <= 127:
            raise SongError(f"{step}: key {cell.key} is outside the MIDI range 0-127", where)
        if not 1 <= cell.velocity <= 127:
            raise SongError(f"{step}: velocity {cell.velocity} is outside 1-127", where)
    if isinstance(cell, Tie) and index > 0 and previous is None:
        raise SongError(f"{step}: a tie after a rest (a tie holds the note before it)", where)
    if index > 0 and previous is not None and previous.gate_percent < 100 and isinstance(cell, Tie):
        raise SongError(f"{step}: a tie after a note that ends at {previous.gate_percent}% of its step", where)


# --- registers and the song list ---------------------------------------------------------------------


@dataclass(frozen=True)
class Register:
    """What a track plays (Page 3's register): a voice or instrument name (None: the General MIDI
    program's voice, piano), the MIDI channel (0-based; 9 is the drum kit, whose voice is "drums"),
    and a level 0-127 sent as controller 7."""

    voice: str | None = None
    channel: int = 0
    level: int = LEVEL_DEFAULT


@dataclass(frozen=True)
class Play:
    """A song step: a pattern (by its number, 1-255) played `repeats` times."""

    pattern: int
    repeats: int = 1


Entry = Play | str  # a step of the song list or of a section: a pattern played, or a section's letter


def default_registers() -> tuple[Register, ...]:
    """Track A on channel 1 ... track H on channel 8, each playing its channel's default voice."""
    return tuple(Register(channel=i) for i in range(N_TRACKS))


@dataclass(frozen=True)
class Song:
    """A Page R song. `patterns` by number (1-255); `song` the song list; `sections` by letter A-Z.

    speed is the CMI's (BPM = 314160 / speed, a beat being a quarter note).
    """

    patterns: Mapping[int, Pattern]
    song: tuple[Entry, ...]
    sections: Mapping[str, tuple[Entry, ...]] = field(default_factory=dict)
    speed: int = SPEED_DEFAULT
    registers: tuple[Register, ...] = field(default_factory=default_registers)
    title: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", dict(sorted(self.patterns.items())))
        object.__setattr__(self, "sections", dict(sorted(self.sections.items())))
        object.__setattr__(self, "song", tuple(self.song))
        if not isinstance(self.title, str) or "\n" in self.title:
            raise SongError("the title is one line of text", ("title",))
        if isinstance(self.speed, bool) or not isinstance(self.speed, int) or not SPEED_MIN <= self.speed <= SPEED_MAX:
            raise SongError(f"{self.speed!r} is outside {SPEED_MIN}-{SPEED_MAX} "
                            f"(BPM {speed_to_bpm(SPEED_MAX):.2f}-{speed_to_bpm(SPEED_MIN):.2f})", ("speed",))
        if len(self.patterns) > MAX_PATTERNS:
            raise SongError(f"{len(self.patterns)} patterns; a song holds at most {MAX_PATTERNS}", ("patterns",))
        for number in self.patterns:
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PATTERNS:
                raise SongError(f"pattern number {number!r} is outside 1-{MAX_PATTERNS}", ("patterns",))
        self._check_registers()
        if not self.song:
            raise SongError("the song list is empty (give at least one pattern to play)", ("song",))
        if len(self.song) > MAX_SONG_STEPS:
            raise SongError(f"{len(self.song)} steps; the song list holds at most {MAX_SONG_STEPS}", ("song",))
        for name, steps in self.sections.items():
            if not isinstance(name, str) or len(name) != 1 or name not in SECTION_NAMES:
                raise SongError(f"section {name!r}: sections are named by one capital letter A-Z", ("sections",))
            if not steps:
                raise SongError("an empty section", ("sections", name))
            if len(steps) > MAX_SECTION_STEPS:
                raise SongError(f"{len(steps)} steps; a section holds at most {MAX_SECTION_STEPS}", ("sections", name))
            object.__setattr__(self, "sections", {**self.sections, name: tuple(steps)})
            for i, entry in enumerate(steps):
                self._check_entry(entry, i, ("sections", name))
        for i, entry in enumerate(self.song):
            self._check_entry(entry, i, ("song",))
        self._check_cycles()
        total = sum(self.entry_bars(entry) for entry in self.song)
        if total > MAX_EXPANDED_BARS:
            raise SongError(f"the song expands to {total:,} bars; at most {MAX_EXPANDED_BARS:,} are played", ("song",))

    def _check_registers(self) -> None:
        if len(self.registers) != N_TRACKS:
            raise SongError(f"{N_TRACKS} registers, A-H, not {len(self.registers)}", ("registers",))
        by_channel: dict[int, tuple[str, Register]] = {}
        for letter, reg in zip(TRACK_NAMES, self.registers, strict=True):
            where = ("registers", letter)
            if isinstance(reg.channel, bool) or not isinstance(reg.channel, int) or not 0 <= reg.channel <= 15:
                raise SongError(f"channel {reg.channel!r} is outside 1-16", (*where, "channel"))
            if isinstance(reg.level, bool) or not isinstance(reg.level, int) or not 0 <= reg.level <= 127:
                raise SongError(f"level {reg.level!r} is outside 0-127", (*where, "level"))
            if reg.voice is not None and (not isinstance(reg.voice, str) or not reg.voice.strip()):
                raise SongError(f"voice {reg.voice!r} is not a voice name", (*where, "voice"))
            if reg.channel == DRUM_CHANNEL and reg.voice not in (None, DRUMS):
                raise SongError(f"channel 10 plays the drum kit (a voice per key); give voice = {DRUMS!r} "
                                f"or another channel for {reg.voice!r}", (*where, "voice"))
            if reg.channel != DRUM_CHANNEL and reg.voice == DRUMS:
                raise SongError(f"{DRUMS!r} is the kit of channel 10, not of channel {reg.channel + 1}",
                                (*where, "voice"))
            if not self.track_used(TRACK_NAMES.index(letter)):
                continue
            other = by_channel.get(reg.channel)
            if other is not None and (other[1].voice, other[1].level) != (reg.voice, reg.level):
                raise SongError(f"shares channel {reg.channel + 1} with register {other[0]} but not its voice "
                                "and level (one channel plays one sound; both tracks have notes)", where)
            by_channel.setdefault(reg.channel, (letter, reg))

    def _check_entry(self, entry: Entry, index: int, where: tuple[str, ...]) -> None:
        step = f"step {index + 1}"
        if isinstance(entry, str):
            if entry not in self.sections:
                raise SongError(f"{step}: section {entry!r} is not defined", where)
            return
        if not isinstance(entry, Play):
            raise SongError(f"{step}: {entry!r} is neither a pattern played nor a section", where)
        if entry.pattern not in self.patterns:
            raise SongError(f"{step}: pattern {entry.pattern} is not defined", where)
        repeats = entry.repeats
        if isinstance(repeats, bool) or not isinstance(repeats, int) or not 1 <= repeats <= MAX_REPEATS:
            raise SongError(f"{step}: {entry.repeats!r} repeats is outside 1-{MAX_REPEATS}", where)

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*path[path.index(name):], name])
                raise SongError(f"sections call each other in a cycle ({cycle})", ("sections", name))
            state[name] = 1
            for entry in self.sections[name]:
                if isinstance(entry, str):
                    visit(entry, [*path, name])
            state[name] = 2

        for name in self.sections:
            visit(name, [])

    # --- reading the song list ---

    def entry_bars(self, entry: Entry) -> int:
        """How many bars a step plays, its sections and repeats expanded."""
        if isinstance(entry, Play):
            return entry.repeats
        return sum(self.entry_bars(e) for e in self.sections[entry])

    def expand_entry(self, entry: Entry) -> Iterator[int]:
        """The pattern number of every bar a step plays, in order."""
        if isinstance(entry, Play):
            for _ in range(entry.repeats):
                yield entry.pattern
            return
        for e in self.sections[entry]:
            yield from self.expand_entry(e)

    def bars(self, from_step: int = 0) -> Iterator[tuple[int, int]]:
        """(song step index, pattern number) of every bar the song plays from a step of its list."""
        if not 0 <= from_step < len(self.song):
            raise SongError(f"step {from_step} is outside the song list's 0-{len(self.song) - 1}", ("song",))
        for index in range(from_step, len(self.song)):
            for number in self.expand_entry(self.song[index]):
                yield index, number

    def track_used(self, track: int) -> bool:
        """Whether a track (0-7) has a note in any pattern."""
        return any(cell is not None for p in self.patterns.values() for cell in p.tracks[track])
