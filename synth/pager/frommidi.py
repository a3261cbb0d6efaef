"""A MIDI file made into a Page R song: quantised to a grid, a bar a pattern, at most eight monophonic tracks.

How it chooses, so that a user knows what was kept:
- Notes start on the nearest step of the grid (default 1/16); each keeps its length, which becomes
  ties and the percent of its last step it sounds. A bar whose metre the grid does not divide is
  quantised to 1/32 instead.
- Tracks go to channels busiest first (most notes): every channel with notes gets one while tracks
  remain, then channels that play chords get more, one at a time, busiest first. Channels beyond
  the eighth track are left out.
- A chord is split over its channel's tracks, highest note on the first; when it has more notes
  than the channel has tracks, its highest notes are kept and the others dropped. A note that
  starts while its track still sounds ends the note before (as on the CMI's monophonic tracks).
- Bars that are the same become one pattern; the same bar again and again, one step with repeats.
- The song plays at the file's first tempo; later tempo changes are counted and left out.
- A file this package wrote (tracks named "track A" ... with their register in a text event)
  comes back to its own tracks and registers, so that song -> MIDI -> song gives the same song
  when its notes start on the grid and its song list is in the form made here (patterns numbered
  in the order they are first played, one step for each run of repeats, no sections).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from fractions import Fraction

import mido

from synth.gm import default_voice_set
from synth.midi import CC
from synth.midifile import decode_division
from synth.pager.sequencer import REGISTER_TEXT, TICKS_PER_BEAT, TRACK_PREFIX
from synth.pager.song import (
    DRUM_CHANNEL,
    DRUMS,
    GRIDS,
    LEVEL_DEFAULT,
    MAX_PATTERNS,
    MAX_REPEATS,
    MAX_SONG_STEPS,
    MAX_STEPS_PER_BAR,
    N_TRACKS,
    SPEED_MAX,
    SPEED_MIN,
    TRACK_NAMES,
    Note,
    Pattern,
    Play,
    Register,
    Song,
    SongError,
    Tie,
)

FALLBACK_GRID = "1/32"  # divides every bar of a metre whose denominator is at most 32
_REGISTER = re.compile(rf"^{REGISTER_TEXT}([A-H]): channel (\d+), level (\d+)(?:, voice (.+))?$")


@dataclass(frozen=True)
class ImportReport:
    """The song made, and what the import had to leave out or change."""

    song: Song
    grid: str
    n_notes: int  # notes in the file
    n_dropped: int  # chord notes beyond their channel's tracks
    channels_left_out: tuple[int, ...]  # 0-based channels that got no track
    tempo_changes_ignored: int
    bars_on_fallback_grid: int


@dataclass
class _Note:
    channel: int
    key: int
    velocity: int
    start: int  # ticks of TICKS_PER_BEAT
    end: int


def import_midi(midi: mido.MidiFile, *, grid: str = "1/16", title: str | None = None) -> ImportReport:
    """Make a song of a MIDI file (see the module's docstring for what is kept)."""
    if grid not in GRIDS:
        raise SongError(f"unknown grid {grid!r} (use one of {', '.join(GRIDS)})")

    kind, resolution, fps = decode_division(midi.ticks_per_beat)
    # SMPTE files are read as if at 120 beats a minute (a beat 0.5 s), as scores.score.from_midi does
    source_ppq = Fraction(fps) * resolution / 2 if kind == "smpte" else Fraction(resolution)

    def at(tick: int) -> int:
        return round(tick * TICKS_PER_BEAT / source_ppq)

    tempos: list[tuple[int, int]] = []
    metres: list[tuple[int, int, int]] = []
    programs: dict[int, int] = {}
    levels: dict[int, int] = {}
    names: dict[int, str] = {}
    registers_text: dict[str, Register] = {}
    track_notes: dict[int, list[_Note]] = defaultdict(list)
    for number, track in enumerate(midi.tracks):
        tick = 0
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for msg in track:
            tick += msg.time
            t = at(tick)
            if msg.is_meta:
                if msg.type == "set_tempo":
                    tempos.append((t, msg.tempo))
                elif msg.type == "time_signature":
                    metres.append((t, msg.numerator, msg.denominator))
                elif msg.type == "track_name":
                    names.setdefault(number, msg.name.strip())
                elif msg.type == "text" and (m := _REGISTER.match(msg.text.strip())):
                    letter, channel, level, voice = m.groups()
                    registers_text[letter] = Register(voice=voice, channel=int(channel) - 1, level=int(level))
                continue
            if msg.type == "program_change":
                programs.setdefault(msg.channel, msg.program)
            elif msg.type == "control_change" and msg.control == CC.VOLUME:
                levels.setdefault(msg.channel, msg.value)
            elif msg.type == "note_on" and msg.velocity > 0:
                sounding[msg.channel, msg.note].append((t, msg.velocity))
            elif msg.type in ("note_on", "note_off") and sounding[msg.channel, msg.note]:
                start, velocity = sounding[msg.channel, msg.note].pop(0)  # the oldest instance ends first
                if t > start:
                    track_notes[number].append(_Note(msg.channel, msg.note, velocity, start, t))
        for (channel, key), started in sounding.items():  # never released: ends with its track
            for start, velocity in started:
                if at(tick) > start:
                    track_notes[number].append(_Note(channel, key, velocity, start, at(tick)))
    all_notes = [n for notes in track_notes.values() for n in notes]
    if not all_notes:
        raise SongError("the file has no notes to make patterns of")

    bars = _bars(metres, max(n.end for n in all_notes), grid)
    points = [bar_start + i * step for bar_start, _, step, n_steps, _ in bars for i in range(n_steps)]
    points.append(bars[-1][0] + bars[-1][2] * bars[-1][3])
    for n in all_notes:
        length = n.end - n.start
        i = bisect_left(points, n.start)
        if i == len(points) or (i > 0 and n.start - points[i - 1] <= points[i] - n.start):
            i -= 1
        n.start = points[i]
        n.end = n.start + length
    last_end = max(n.end for n in all_notes)
    while points[-1] < last_end:  # a note quantised past the bars: one more bar
        extra = _bars(metres, last_end, grid)
        bars = extra
        points = [b + i * s for b, _, s, k, _ in bars for i in range(k)]
        points.append(bars[-1][0] + bars[-1][2] * bars[-1][3])

    groups = _own_tracks(names, track_notes, registers_text)
    left_out: list[int] = []
    if groups is None:
        groups, left_out = _tracks_by_channel(all_notes)
    registers = [Register(channel=i) for i in range(N_TRACKS)]
    default_voices = _gm_program_voices() if groups and registers_text == {} else {}
    for letter, (channel, _) in groups.items():
        index = TRACK_NAMES.index(letter)
        if letter in registers_text:
            registers[index] = registers_text[letter]
        else:
            voice = DRUMS if channel == DRUM_CHANNEL else default_voices.get(programs.get(channel, -1))
            registers[index] = Register(voice=voice, channel=channel, level=levels.get(channel, LEVEL_DEFAULT))
    for letter, register in registers_text.items():  # registers of tracks without notes
        if letter not in groups:
            registers[TRACK_NAMES.index(letter)] = register

    dropped = 0
    tracks_of: dict[str, list[_Note]] = {}
    by_channel: dict[int, list[str]] = defaultdict(list)
    for letter, (_, notes) in groups.items():  # the tracks of one channel share its list of notes
        by_channel[id(notes)].append(letter)
    for letters in by_channel.values():
        notes = groups[letters[0]][1]
        kept, n_dropped = _monophonic(notes, len(letters))
        dropped += n_dropped
        for letter, track in zip(letters, kept, strict=True):
            tracks_of[letter] = track

    cells = {letter: _cells(track, points) for letter, track in tracks_of.items()}
    patterns: dict[Pattern, int] = {}
    song_list: list[Play] = []
    offset = 0
    for _, metre, _, n_steps, bar_grid in bars:
        tracks = tuple(tuple(cells[letter][offset:offset + n_steps]) if letter in cells else (None,) * n_steps
                       for letter in TRACK_NAMES)
        offset += n_steps
        pattern = Pattern(tracks=tracks, grid=bar_grid, metre=metre)
        if pattern not in patterns:
            if len(patterns) == MAX_PATTERNS:
                raise SongError(f"the file has more than {MAX_PATTERNS} different bars; a song holds "
                                f"{MAX_PATTERNS} patterns (import a part of the file)")
            patterns[pattern] = len(patterns) + 1
        number = patterns[pattern]
        if song_list and song_list[-1].pattern == number and song_list[-1].repeats < MAX_REPEATS:
            song_list[-1] = Play(number, song_list[-1].repeats + 1)
        else:
            song_list.append(Play(number))
    while len(song_list) > 1 and next(p for p, n in patterns.items() if n == song_list[-1].pattern).is_empty():
        song_list.pop()
    if len(song_list) > MAX_SONG_STEPS:
        raise SongError(f"the file makes {len(song_list)} song steps; a song list holds {MAX_SONG_STEPS}")
    used = {p.pattern for p in song_list}
    first_tempo = min(tempos)[1] if tempos else 500_000
    speed = min(max(round(first_tempo * 314160 / 60_000_000), SPEED_MIN), SPEED_MAX)
    changes = len({tempo for _, tempo in tempos} - {first_tempo})
    song = Song(
        patterns={n: p for p, n in patterns.items() if n in used},
        song=tuple(song_list),
        speed=speed,
        registers=tuple(registers),
        title=title if title is not None else _title(midi, names, track_notes),
    )
    return ImportReport(song, grid, len(all_notes), dropped, tuple(left_out), changes,
                        sum(1 for b in bars if b[4] != grid))


def _bars(metres: list[tuple[int, int, int]], until: int, grid: str):
    """(start tick, metre, step ticks, steps, grid) of each bar from 0 until a tick is reached."""
    changes = sorted(metres)
    ticks = [t for t, _, _ in changes]
    bars = []
    start = 0
    while start < until or not bars:
        i = bisect_right(ticks, start) - 1
        metre = (changes[i][1], changes[i][2]) if i >= 0 else (4, 4)
        if metre[1] not in (1, 2, 4, 8, 16, 32) or not 1 <= metre[0] <= 32:
            metre = (4, 4)
        bar_quarters = Fraction(4 * metre[0], metre[1])
        bar_grid = grid
        steps = bar_quarters / GRIDS[grid]
        if steps.denominator != 1 or steps > MAX_STEPS_PER_BAR:
            bar_grid = FALLBACK_GRID
            steps = bar_quarters / GRIDS[bar_grid]
        if steps > MAX_STEPS_PER_BAR:
            raise SongError(f"a bar of {metre[0]}/{metre[1]} is more than {MAX_STEPS_PER_BAR} steps of {bar_grid}")
        step_ticks = int(GRIDS[bar_grid] * TICKS_PER_BEAT)
        bars.append((start, metre, step_ticks, int(steps), bar_grid))
        start += int(bar_quarters * TICKS_PER_BEAT)
    return bars


def _own_tracks(names, track_notes, registers_text):
    """{letter: (channel, notes)} for a file whose note tracks are this package's "track A" ...; else None."""
    if not registers_text:
        return None
    groups = {}
    for number, notes in track_notes.items():
        name = names.get(number, "")
        letter = name[len(TRACK_PREFIX):] if name.startswith(TRACK_PREFIX) else ""
        channels = {n.channel for n in notes}
        if letter not in registers_text or len(channels) != 1 or letter in groups:
            return None
        groups[letter] = (channels.pop(), notes)
    return dict(sorted(groups.items()))


def _tracks_by_channel(notes: list[_Note]):
    """({letter: (channel, the channel's notes)}, channels left out): tracks for the busiest channels."""
    by_channel: dict[int, list[_Note]] = defaultdict(list)
    for n in notes:
        by_channel[n.channel].append(n)
    order = sorted(by_channel, key=lambda ch: (-len(by_channel[ch]), ch))
    chosen = order[:N_TRACKS]
    count = Counter({ch: 1 for ch in chosen})
    need = {ch: _polyphony(by_channel[ch]) for ch in chosen}
    while sum(count.values()) < N_TRACKS:
        wanting = [ch for ch in chosen if need[ch] > count[ch]]
        if not wanting:
            break
        for ch in wanting:
            if sum(count.values()) < N_TRACKS:
                count[ch] += 1
    groups = {}
    letters = iter(TRACK_NAMES)
    for ch in sorted(chosen):
        notes_of_channel = by_channel[ch]
        for _ in range(count[ch]):
            groups[next(letters)] = (ch, notes_of_channel)
    return groups, sorted(order[N_TRACKS:])


def _polyphony(notes: list[_Note]) -> int:
    edges = sorted([(n.start, 1) for n in notes] + [(n.end, -1) for n in notes])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def _monophonic(notes: list[_Note], n_tracks: int) -> tuple[list[list[_Note]], int]:
    """The notes split over n monophonic tracks, and how many were dropped (see the module's rules)."""
    tracks: list[list[_Note]] = [[] for _ in range(n_tracks)]
    dropped = 0
    by_start: dict[int, list[_Note]] = defaultdict(list)
    for n in notes:
        by_start[n.start].append(n)
    for start in sorted(by_start):
        chord = sorted(by_start[start], key=lambda n: (-n.key, -n.velocity))
        taken: set[int] = set()
        for n in chord:
            free = [i for i in range(n_tracks) if i not in taken and (not tracks[i] or tracks[i][-1].end <= start)]
            busy = [i for i in range(n_tracks) if i not in taken]
            if free:
                i = free[0]
            elif busy:
                i = min(busy, key=lambda k: tracks[k][-1].start)
                last = tracks[i][-1]
                tracks[i][-1] = _Note(last.channel, last.key, last.velocity, last.start, start)
            else:
                dropped += 1
                continue
            taken.add(i)
            tracks[i].append(_Note(n.channel, n.key, n.velocity, n.start, n.end))
    return tracks, dropped


def _cells(notes: list[_Note], points: list[int]) -> list:
    """One cell per grid step for a monophonic track's notes (their starts on the grid points)."""
    cells: list = [None] * (len(points) - 1)
    for n in notes:
        first = bisect_left(points, n.start)
        last = bisect_left(points, n.end) - 1  # the step in which the note ends
        last = max(min(last, len(cells) - 1), first)
        step = points[last + 1] - points[last]
        gate = min(100, max(1, round(100 * (n.end - points[last]) / step)))
        for i in range(first, last + 1):
            g = gate if i == last else 100
            cells[i] = Note(n.key, n.velocity, g) if i == first else Tie(g)
    return cells


def _gm_program_voices() -> dict[int, str]:
    return dict(default_voice_set().program_map)


def _title(midi: mido.MidiFile, names: dict[int, str], track_notes) -> str:
    if midi.type == 1 and 0 in names and 0 not in track_notes and not names[0].startswith(TRACK_PREFIX):
        return names[0]
    return ""
