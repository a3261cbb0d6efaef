"""Page R's sequencer: a song's list played out (sections, repeats) as a type-1 MIDI file, and its timeline.

Each track is one MIDI track on its register's channel. Notes land on exact ticks: TICKS_PER_BEAT is
1920, so that every grid's step (a 1/32 triplet is 160 ticks) and every length of 1-100 percent of a
step is a whole and distinct number of ticks.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido

from synth.gm import default_voice_set
from synth.midifile import track_from_events
from synth.pager.song import DRUM_CHANNEL, TRACK_NAMES, Note, Register, Song, SongError, Tie

TICKS_PER_BEAT = 1920  # a quarter note; 1920 = 2**7 * 15: every GRIDS step is whole, the smallest 160
MICROSECONDS_PER_MINUTE = 60_000_000
REGISTER_TEXT = "register "  # a text event "register A: channel 2, level 100, voice NAME", read back on import
TRACK_PREFIX = "track "  # MIDI track names "track A" ... "track H"


def tempo_us(speed: int) -> int:
    """The MIDI tempo (microseconds a quarter note) of a Page R speed: 60e6 / (314160 / speed)."""
    return round(MICROSECONDS_PER_MINUTE * speed / 314160)


@dataclass(frozen=True)
class Bar:
    """One bar as played: the song step it belongs to (None when looping a pattern), its pattern, and
    where it starts, in ticks of TICKS_PER_BEAT and in seconds."""

    step: int | None
    pattern: int
    start_tick: int
    n_ticks: int
    start_s: float


def played_bars(song: Song, *, from_step: int = 0, loop_pattern: tuple[int, int] | None = None) -> list[Bar]:
    """Every bar the sequencer plays, in order, with its start tick and time."""
    if loop_pattern is not None:
        number, times = loop_pattern
        if number not in song.patterns:
            raise SongError(f"pattern {number} is not defined (the song has {_numbers(song)})", ("patterns",))
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 65536:
            raise SongError(f"a pattern loops 1-65536 times, not {times!r}")
        plan = [(None, number)] * times
    else:
        plan = list(song.bars(from_step))
    seconds_per_tick = tempo_us(song.speed) / 1e6 / TICKS_PER_BEAT
    bars = []
    tick = 0
    for step, number in plan:
        pattern = song.patterns[number]
        n_ticks = int(pattern.bar_quarters * TICKS_PER_BEAT)
        bars.append(Bar(step, number, tick, n_ticks, tick * seconds_per_tick))
        tick += n_ticks
    return bars


def step_start_s(song: Song) -> list[float]:
    """The time in seconds at which each step of the song list starts, playing from the first."""
    starts: dict[int, float] = {}
    for bar in played_bars(song):
        starts.setdefault(bar.step, bar.start_s)
    return [starts[i] for i in range(len(song.song))]


def _numbers(song: Song) -> str:
    return ", ".join(map(str, song.patterns)) or "none"


@dataclass(frozen=True)
class TimedNote:
    """A note as the sequencer plays it: track index 0-7, MIDI channel, key, velocity, ticks."""

    track: int
    channel: int
    key: int
    velocity: int
    start: int
    end: int


def song_notes(song: Song, bars: list[Bar]) -> list[TimedNote]:
    """The notes the bars play, sorted by start, track and key."""
    notes = [n for index in range(len(TRACK_NAMES)) for n in _track_notes(song, bars, index)]
    notes.sort(key=lambda n: (n.start, n.track, n.key))
    return notes


def _track_notes(song: Song, bars: list[Bar], index: int) -> list[TimedNote]:
    channel = song.registers[index].channel
    notes: list[TimedNote] = []
    held: tuple[int, int, int] | None = None  # (key, velocity, start tick) of the note sounding on
    for bar in bars:
        pattern = song.patterns[bar.pattern]
        step_ticks = int(pattern.step_quarters * TICKS_PER_BEAT)
        for i, cell in enumerate(pattern.tracks[index]):
            at = bar.start_tick + i * step_ticks
            if isinstance(cell, Tie) and held is None:
                continue  # a tie at a pattern's start with nothing held before it: silent
            if (cell is None or isinstance(cell, Note)) and held is not None:
                notes.append(TimedNote(index, channel, held[0], held[1], held[2], at))
                held = None
            if cell is None:
                continue
            if isinstance(cell, Note):
                held = (cell.key, cell.velocity, at)
            if cell.gate_percent < 100 and held is not None:
                end = at + max(1, round(step_ticks * cell.gate_percent / 100))
                notes.append(TimedNote(index, channel, held[0], held[1], held[2], end))
                held = None
    if held is not None and bars:
        notes.append(TimedNote(index, channel, held[0], held[1], held[2], bars[-1].start_tick + bars[-1].n_ticks))
    return notes


def song_to_midi(song: Song, *, from_step: int = 0, loop_pattern: tuple[int, int] | None = None) -> mido.MidiFile:
    """The song as a type-1 MIDI file at its speed: a conductor track, then a track per Page R track.

    from_step: start at this step of the song list (0-based). loop_pattern: (pattern number, n)
    plays that pattern n times instead of the song. The conductor track holds the title, the tempo,
    each metre change and a marker at each song step ("3: 2x4"); each track is named "track A" ...,
    names its register in a text event, and sets the register's level (controller 7) and the
    General MIDI program that plays its voice by default, if one does, before its first note. At
    equal ticks note-offs come first.
    """
    bars = played_bars(song, from_step=from_step, loop_pattern=loop_pattern)
    notes = song_notes(song, bars)
    end = bars[-1].start_tick + bars[-1].n_ticks if bars else 0
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor: list[tuple[int, int, mido.BaseMessage]] = []
    if song.title:
        conductor.append((0, 0, mido.MetaMessage("track_name", name=song.title)))
    conductor.append((0, 1, mido.MetaMessage("set_tempo", tempo=tempo_us(song.speed))))
    metre = None
    last_step = None
    for bar in bars:
        pattern = song.patterns[bar.pattern]
        if pattern.metre != metre:
            metre = pattern.metre
            conductor.append((bar.start_tick, 1, mido.MetaMessage("time_signature", numerator=metre[0],
                                                                  denominator=metre[1])))
        if bar.step is not None and bar.step != last_step:
            last_step = bar.step
            conductor.append((bar.start_tick, 2, mido.MetaMessage("marker", text=_step_label(song, bar.step))))
    conductor.append((end, 9, mido.MetaMessage("end_of_track")))
    midi.tracks.append(track_from_events(conductor))
    programs = gm_programs_of_voices()
    for index, letter in enumerate(TRACK_NAMES):
        register = song.registers[index]
        mine = [n for n in notes if n.track == index]
        if not mine and register == Register(channel=index):
            continue
        events: list[tuple[int, int, mido.BaseMessage]] = [(0, 0, mido.MetaMessage("track_name",
                                                                                  name=TRACK_PREFIX + letter))]
        events.append((0, 0, mido.MetaMessage("text", text=register_text(letter, register))))
        if mine:  # a register whose track plays nothing leaves its channel's level alone
            program = programs.get(register.voice)
            if program is not None and register.channel != DRUM_CHANNEL:
                events.append((0, 1, mido.Message("program_change", channel=register.channel, program=program)))
            events.append((0, 1, mido.Message("control_change", channel=register.channel, control=7,
                                              value=register.level)))
        for n in mine:
            events.append((n.start, 3, mido.Message("note_on", channel=n.channel, note=n.key, velocity=n.velocity)))
            events.append((n.end, 2, mido.Message("note_off", channel=n.channel, note=n.key, velocity=0)))
        events.append((end, 9, mido.MetaMessage("end_of_track")))
        midi.tracks.append(track_from_events(events))
    return midi


def gm_programs_of_voices() -> dict[str, int]:
    """The lowest General MIDI program (0-127) that plays each voice by default, so that an exported
    file sounds the same in `liquidsky render` and close to it in other players."""
    programs: dict[str, int] = {}
    for program, name in sorted(default_voice_set().program_map.items()):
        programs.setdefault(name, program)
    return programs


def register_text(letter: str, register: Register) -> str:
    """The text event a track's register travels in: 'register A: channel 2, level 100, voice synth-bass'."""
    text = f"{REGISTER_TEXT}{letter}: channel {register.channel + 1}, level {register.level}"
    return text + (f", voice {register.voice}" if register.voice is not None else "")


def _step_label(song: Song, step: int) -> str:
    entry = song.song[step]
    text = entry if isinstance(entry, str) else f"{entry.pattern}" + (f"x{entry.repeats}" if entry.repeats > 1 else "")
    return f"{step + 1}: {text}"


def song_channel_voices(song: Song) -> dict[int, str]:
    """The voice or instrument each channel's register names: {0-based channel: name}.

    Registers without a voice are left out, and so is channel 10's kit ("drums"): its keys choose
    their voices as on any drum channel.
    """
    voices: dict[int, str] = {}
    used = sorted(range(len(song.registers)), key=lambda i: not song.track_used(i))  # tracks with notes first
    for index in used:
        register = song.registers[index]
        if register.voice is not None and register.channel != DRUM_CHANNEL:
            voices.setdefault(register.channel, register.voice)
    return voices
