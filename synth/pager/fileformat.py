"""The Page R song file: TOML a musician can write by hand, read and written exactly.

    # a liquidsky Page R song
    title = "Example (original)"
    speed = 2618             # the CMI's speed, 500-65535 (BPM = 314160 / speed); or bpm = 120
    grid = "1/16"            # the patterns' time grid unless one says otherwise
    metre = "4/4"            # the patterns' bar unless one says otherwise
    song = "1x2 A 3"         # the song list: pattern 1 twice, section A, pattern 3 once
    [sections]
    A = "2x3 4"              # a section: up to 8 steps, which may call other sections
    [registers]              # what each track plays; a register not given: channel = its track
    A = { voice = "synth-bass", channel = 2, level = 100 }
    H = { voice = "drums", channel = 10 }
    [patterns.1]             # patterns by number, 1-255
    name = "intro"           # optional
    grid = "1/8T"            # optional: this pattern's own grid and metre
    metre = "3/4"
    A = "D2 - - . | F2:80 . E2/50 ."
    H = "36 . . . | 38 . 36 36"

Keys, top level: title (text), speed (500-65535) or bpm (4.79-628.32, stored as the nearest speed),
grid, metre, song, [sections], [registers], [patterns.N]. In a register: voice (a voice or
instrument name, factory or your own, or "drums" on channel 10; default: the channel's General MIDI
program, piano), channel (1-16, default the track's letter: A = 1 ... H = 8), level (0-127, MIDI
volume, default 100). In a pattern: name, grid, metre, and a track string for each of A-H (a track
not given rests). Any other key is refused.

Grids: "1/1", "1/2", "1/4", "1/8", "1/16", "1/32", and their triplets "1/4T" etc. Metres: N/D, N 1-32,
D 1, 2, 4, 8, 16 or 32; the bar must be a whole number of steps (at most 192).

A track string, exactly (one cell per step of the bar; `|` marks are only for the eye):

    track    := sep* cell (sep+ cell)* sep*
    sep      := " " | "\t" | "\n" | "|"
    cell     := rest | tie | note
    rest     := "."
    tie      := "-" [ "/" length ]               the note before goes on sounding through this step
    note     := key [ ":" velocity ] [ "/" length ]
    key      := letter accidental* octave        C4 = 60, A4 = 69; C-1 = 0 ... G9 = 127
              | number                           a MIDI key 0-127 (drums: 36 kick, 38 snare, 42 hat)
    letter   := "A" ... "G" (either case)
    accidental := "#" | "b"
    velocity := 1-127 (default 100)
    length   := 1-100: the percent of this step the note sounds, where the note ends (default 100)

A tie at the first step of a pattern continues its track's note from the end of the bar before.
A tie after a rest, or after a note shorter than its step, is refused.

The song list and sections: steps separated by spaces, each `N` (pattern N once), `NxR` (R times,
1-255) or a section's letter. An array of such strings is read as one.

Every error is one line, `FILE:LINE: FIELD: PROBLEM` (SongFileError), the line being where the
field's key is written (tomllib reports no positions of values, so the key is found in the text).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from fractions import Fraction
from pathlib import Path

from synth.pager.song import (
    DRUM_CHANNEL,
    GRIDS,
    LEVEL_DEFAULT,
    MAX_PATTERNS,
    MAX_STEPS_PER_BAR,
    SECTION_NAMES,
    SPEED_DEFAULT,
    SPEED_MAX,
    SPEED_MIN,
    TRACK_NAMES,
    VELOCITY_DEFAULT,
    Entry,
    Note,
    Pattern,
    Play,
    Register,
    Song,
    SongError,
    Tie,
    bpm_to_speed,
    parse_metre,
    speed_to_bpm,
)
from synth.sinks import write_atomically

HEADER = "# a liquidsky Page R song (see the README, 'Page R')"
_NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_TOP_KEYS = {"title", "speed", "bpm", "grid", "metre", "song", "sections", "registers", "patterns"}
_REGISTER_KEYS = {"voice", "channel", "level"}
_PATTERN_KEYS = {"name", "grid", "metre", *TRACK_NAMES}
_CELL = re.compile(r"^(?:(?P<rest>\.)|-(?:/(?P<tie_len>\d+))?|(?P<key>[A-Ga-g][#b]*-?\d+|\d+)"
                   r"(?::(?P<vel>\d+))?(?:/(?P<len>\d+))?)$")
_STEP = re.compile(r"^(?:(?P<pattern>\d+)(?:[xX](?P<repeats>\d+))?|(?P<section>[A-Z]))$")
_SEPARATORS = re.compile(r"[\s|]+")


class SongFileError(ValueError):
    """A song file that cannot be read or written: `FILE:LINE: FIELD: PROBLEM`, one line."""


# --- reading -------------------------------------------------------------------------------------------


def load_song(path: str | os.PathLike) -> Song:
    """Read a Page R song file; every problem is one SongFileError naming the file, line and field."""
    name = os.fspath(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as e:
        raise SongFileError(f"{name}: {(e.strerror or str(e)).lower()}") from None
    except UnicodeDecodeError:
        raise SongFileError(f"{name}: not a text file (UTF-8 TOML)") from None
    return loads_song(text, name)


def loads_song(text: str, name: str = "<song>") -> Song:
    """A song from the text of a song file; `name` is the file named in errors."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli is the same parser
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e).splitlines()[0]
        m = re.search(r"\(at line (\d+), column \d+\)", message)
        line = f":{m.group(1)}" if m else ""
        raise SongFileError(f"{name}{line}: not valid TOML ({re.sub(r' *[(]at .*[)]', '', message)})") from None
    try:
        return _song_from(data)
    except SongError as e:
        raise SongFileError(_located(name, text, e.field, e.message)) from None


def _located(name: str, text: str, where: tuple[str, ...], message: str) -> str:
    if not where:
        return f"{name}: {message}"
    line = field_line(text, where)
    at = f":{line}" if line else ""
    return f"{name}{at}: {'.'.join(where)}: {message}"


def field_line(text: str, where: tuple[str, ...]) -> int | None:
    """The line (1-based) where the key of a field is written, or of the nearest table that holds it."""
    best: tuple[int, int] | None = None  # (length of the key matched, line)
    for key, line in _key_lines(text):
        if key == where[: len(key)] and (best is None or len(key) > best[0]):
            best = (len(key), line)
    return None if best is None else best[1]


_KEY_PART = r'(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')'
_KEY_LINE = re.compile(rf"^({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_HEADER_LINE = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in re.findall(rf"{_KEY_PART}", text))


def _key_lines(text: str):
    """(full key, line) of every table header and key in a TOML text, skipping multi-line strings."""
    prefix: tuple[str, ...] = ()
    open_string: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if open_string is not None:
            if open_string in stripped:
                open_string = None
            continue
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER_LINE.match(stripped)
        if header:
            prefix = _split_key(header.group(1))
            yield prefix, number
            continue
        key = _KEY_LINE.match(stripped)
        if key:
            yield prefix + _split_key(key.group(1)), number
            rest = stripped[key.end():]
            for delimiter in ('"""', "'''"):
                if rest.count(delimiter) == 1:
                    open_string = delimiter


def _refuse_unknown(table: dict, known: set[str], where: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            raise SongError(f"unknown key (use {', '.join(sorted(known))})", (*where, key))


def _int(value, low: int, high: int, where: tuple[str, ...], what: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SongError(f"{value!r} is not a whole number {low}-{high}", where)
    if not low <= value <= high:
        raise SongError(f"{what}{value} is outside {low}-{high}", where)
    return value


def _text(value, where: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise SongError(f"{value!r} is not text (put it in quotes)", where)
    return value


def _song_from(data: dict) -> Song:
    _refuse_unknown(data, _TOP_KEYS, ())
    title = _text(data.get("title", ""), ("title",))
    if "speed" in data and "bpm" in data:
        raise SongError("give the tempo as speed or as bpm, not both", ("bpm",))
    speed = SPEED_DEFAULT
    if "speed" in data:
        speed = _int(data["speed"], SPEED_MIN, SPEED_MAX, ("speed",), "speed ")
    elif "bpm" in data:
        bpm = data["bpm"]
        low, high = speed_to_bpm(SPEED_MAX), speed_to_bpm(SPEED_MIN)
        if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not low <= bpm <= high:
            raise SongError(f"{bpm!r} is outside {low:.2f}-{high:.2f} BPM (speed {SPEED_MAX}-{SPEED_MIN})", ("bpm",))
        speed = min(max(bpm_to_speed(bpm), SPEED_MIN), SPEED_MAX)
    grid = _grid(data.get("grid", "1/16"), ("grid",))
    metre = _metre(data.get("metre", "4/4"), ("metre",))
    registers = _registers(data.get("registers", {}))
    patterns = _patterns(data.get("patterns", {}), grid, metre)
    sections_table = data.get("sections", {})
    if not isinstance(sections_table, dict):
        raise SongError("a table of letters = steps, e.g. [sections] A = \"1x2 3\"", ("sections",))
    sections = {}
    for letter, value in sections_table.items():
        if len(letter) != 1 or letter not in SECTION_NAMES:
            raise SongError("sections are named by one capital letter A-Z", ("sections", letter))
        sections[letter] = _steps(value, ("sections", letter))
    if "song" not in data:
        raise SongError("no song list: add song = \"1\" (the patterns to play, in order)", ("song",))
    song = _steps(data["song"], ("song",))
    return Song(patterns=patterns, song=song, sections=sections, speed=speed, registers=registers, title=title)


def _grid(value, where: tuple[str, ...]) -> str:
    text = _text(value, where)
    grid = text.strip()
    grid = grid[:-1] + "T" if grid.endswith(("t", "T")) else grid
    if grid not in GRIDS:
        raise SongError(f"{text!r} is not a grid (use {', '.join(GRIDS)})", where)
    return grid


def _metre(value, where: tuple[str, ...]) -> tuple[int, int]:
    try:
        return parse_metre(_text(value, where).strip())
    except SongError as e:
        raise SongError(e.message, where) from None


def _registers(table) -> tuple[Register, ...]:
    if not isinstance(table, dict):
        raise SongError("a table of A-H = { voice, channel, level }", ("registers",))
    registers = [Register(channel=i) for i in range(len(TRACK_NAMES))]
    for letter, value in table.items():
        where = ("registers", letter)
        if letter not in TRACK_NAMES:
            raise SongError("registers are A-H, one per track", where)
        if not isinstance(value, dict):
            raise SongError("a register is a table { voice = NAME, channel = 1-16, level = 0-127 }", where)
        _refuse_unknown(value, _REGISTER_KEYS, where)
        index = TRACK_NAMES.index(letter)
        channel = _int(value.get("channel", index + 1), 1, 16, (*where, "channel"), "channel ") - 1
        level = _int(value.get("level", LEVEL_DEFAULT), 0, 127, (*where, "level"), "level ")
        voice = value.get("voice")
        if voice is not None:
            voice = _text(voice, (*where, "voice")).strip()
        registers[index] = Register(voice=voice, channel=channel, level=level)
    return tuple(registers)


def _patterns(table, grid: str, metre: tuple[int, int]) -> dict[int, Pattern]:
    if not isinstance(table, dict):
        raise SongError("patterns are tables by number: [patterns.1]", ("patterns",))
    patterns: dict[int, Pattern] = {}
    for key, value in table.items():
        where = ("patterns", key)
        if not key.isdigit() or not 1 <= int(key) <= MAX_PATTERNS or key != str(int(key)):
            raise SongError(f"patterns are numbered 1-{MAX_PATTERNS}", where)
        if not isinstance(value, dict):
            raise SongError("a pattern is a table: name, grid, metre and tracks A-H", where)
        _refuse_unknown(value, _PATTERN_KEYS, where)
        p_grid = _grid(value["grid"], (*where, "grid")) if "grid" in value else grid
        p_metre = _metre(value["metre"], (*where, "metre")) if "metre" in value else metre
        name = _text(value.get("name", ""), (*where, "name"))
        n_steps = _steps_or_raise(p_grid, p_metre, where)
        tracks = []
        for letter in TRACK_NAMES:
            if letter in value:
                tracks.append(parse_track(_text(value[letter], (*where, letter)), n_steps, (*where, letter)))
            else:
                tracks.append((None,) * n_steps)
        try:
            patterns[int(key)] = Pattern(tracks=tuple(tracks), grid=p_grid, metre=p_metre, name=name)
        except SongError as e:
            raise SongError(e.message, (*where, *e.field)) from None
    return patterns


def _steps_or_raise(grid: str, metre: tuple[int, int], where: tuple[str, ...]) -> int:
    steps = Fraction(4 * metre[0], metre[1]) / GRIDS[grid]
    if steps.denominator != 1 or not 1 <= steps <= MAX_STEPS_PER_BAR:
        raise SongError(f"a bar of {metre[0]}/{metre[1]} is not a whole number of {grid} steps "
                        f"(1-{MAX_STEPS_PER_BAR})", (*where, "grid"))
    return int(steps)


def parse_track(text: str, n_steps: int, where: tuple[str, ...] = ()) -> tuple:
    """The cells of a track string (see the module's grammar); exactly n_steps of them."""
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if len(tokens) != n_steps:
        raise SongError(f"{len(tokens)} steps, but the bar has {n_steps}", where)
    cells = []
    for i, token in enumerate(tokens):
        cells.append(parse_cell(token, i, where))
    return tuple(cells)


def parse_cell(token: str, index: int = 0, where: tuple[str, ...] = ()):
    """One cell: None (a rest), a Tie or a Note."""
    step = f"step {index + 1}"
    m = _CELL.match(token)
    if not m:
        raise SongError(f"{step}: {token!r} is not a note (C4, F#3:90, 36/50), a tie (-) or a rest (.)", where)
    if m.group("rest"):
        return None
    length_text = m.group("tie_len") or m.group("len")
    gate = 100
    if length_text is not None:
        gate = int(length_text)
        if not 1 <= gate <= 100:
            raise SongError(f"{step}: length {gate}% is outside 1-100", where)
    if m.group("key") is None:
        return Tie(gate)
    key_text = m.group("key")
    if key_text.isdigit():
        key = int(key_text)
    else:
        letter = key_text[0].upper()
        rest = key_text[1:]
        shift = 0
        while rest[:1] in ("#", "b"):
            shift += 1 if rest[0] == "#" else -1
            rest = rest[1:]
        key = "C D EF G A B".index(letter) + shift + 12 * (int(rest) + 1)
    if not 0 <= key <= 127:
        raise SongError(f"{step}: {key_text} is outside the MIDI keys (C-1 to G9, 0-127)", where)
    velocity = VELOCITY_DEFAULT
    if m.group("vel") is not None:
        velocity = int(m.group("vel"))
        if not 1 <= velocity <= 127:
            raise SongError(f"{step}: velocity {velocity} is outside 1-127", where)
    return Note(key, velocity, gate)


def _steps(value, where: tuple[str, ...]) -> tuple[Entry, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = " ".join(value)
    if not isinstance(value, str):
        raise SongError(f"{value!r}: steps are a string such as \"1x4 A 2\"", where)
    entries: list[Entry] = []
    for i, token in enumerate(t for t in value.split() if t):
        m = _STEP.match(token)
        if not m:
            raise SongError(f"step {i + 1}: {token!r} is not N, NxR (pattern N, R times) or a section A-Z", where)
        if m.group("section"):
            entries.append(m.group("section"))
        else:
            pattern = int(m.group("pattern"))
            repeats = int(m.group("repeats") or 1)
            if not 1 <= pattern <= MAX_PATTERNS:
                raise SongError(f"step {i + 1}: pattern {pattern} is outside 1-{MAX_PATTERNS}", where)
            entries.append(Play(pattern, repeats))
    return tuple(entries)


# --- writing -------------------------------------------------------------------------------------------


def cell_text(cell, drums: bool = False) -> str:
    """A cell as the track grammar writes it: '.', '-', '-/50', 'D4', 'D4:90/50' ('36' on the drum channel)."""
    if cell is None:
        return "."
    length = f"/{cell.gate_percent}" if cell.gate_percent != 100 else ""
    if isinstance(cell, Tie):
        return "-" + length
    velocity = f":{cell.velocity}" if cell.velocity != VELOCITY_DEFAULT else ""
    return (str(cell.key) if drums else note_name(cell.key)) + velocity + length


def note_name(key: int) -> str:
    """'C4' for 60, 'C-1' for 0."""
    return f"{_NOTE_NAMES[key % 12]}{key // 12 - 1}"


def track_texts(pattern: Pattern, drum_tracks: frozenset[int] = frozenset()) -> list[str]:
    """The eight tracks as strings whose cells line up in columns, `|` at each beat of the metre;
    the tracks in drum_tracks (0-7) name their keys by number."""
    texts = [[cell_text(c, i in drum_tracks) for c in track] for i, track in enumerate(pattern.tracks)]
    widths = [max(len(t[i]) for t in texts) for i in range(pattern.n_steps)]
    beat = Fraction(4, pattern.metre[1]) / pattern.step_quarters
    per_beat = int(beat) if beat.denominator == 1 and 1 < beat < pattern.n_steps else 0
    lines = []
    for cells in texts:
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            if per_beat and i and i % per_beat == 0:
                parts.append("|")
            parts.append(cell.ljust(width))
        lines.append(" ".join(parts).rstrip())
    return lines


def _steps_text(entries) -> str:
    return " ".join(e if isinstance(e, str) else (f"{e.pattern}" if e.repeats == 1 else f"{e.pattern}x{e.repeats}")
                    for e in entries)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def dumps_song(song: Song) -> str:
    """The text of a song file; loads_song of it gives the same Song."""
    grids = Counter(p.grid for p in song.patterns.values())
    metres = Counter(p.metre for p in song.patterns.values())
    grid = grids.most_common(1)[0][0] if grids else "1/16"
    metre = metres.most_common(1)[0][0] if metres else (4, 4)
    out = [HEADER]
    if song.title:
        out.append(f"title = {_q(song.title)}")
    out.append(f"speed = {song.speed}          # {speed_to_bpm(song.speed):.6g} BPM (314160 / speed)")
    out.append(f"grid = {_q(grid)}")
    out.append(f"metre = \"{metre[0]}/{metre[1]}\"")
    out.append(f"song = {_q(_steps_text(song.song))}")
    if song.sections:
        out.append("")
        out.append("[sections]")
        for letter, entries in song.sections.items():
            out.append(f"{letter} = {_q(_steps_text(entries))}")
    registers = [(letter, reg) for letter, reg in zip(TRACK_NAMES, song.registers, strict=True)
                 if reg != Register(channel=TRACK_NAMES.index(letter))]
    if registers:
        out.append("")
        out.append("[registers]")
        for letter, reg in registers:
            fields = []
            if reg.voice is not None:
                fields.append(f"voice = {_q(reg.voice)}")
            fields.append(f"channel = {reg.channel + 1}")
            if reg.level != LEVEL_DEFAULT:
                fields.append(f"level = {reg.level}")
            out.append(f"{letter} = {{ {', '.join(fields)} }}")
    drums = frozenset(i for i, reg in enumerate(song.registers) if reg.channel == DRUM_CHANNEL)
    for number, pattern in song.patterns.items():
        out.append("")
        out.append(f"[patterns.{number}]")
        if pattern.name:
            out.append(f"name = {_q(pattern.name)}")
        if pattern.grid != grid:
            out.append(f"grid = {_q(pattern.grid)}")
        if pattern.metre != metre:
            out.append(f"metre = \"{pattern.metre[0]}/{pattern.metre[1]}\"")
        texts = track_texts(pattern, drums)
        for letter, text, track in zip(TRACK_NAMES, texts, pattern.tracks, strict=True):
            if any(cell is not None for cell in track):
                out.append(f"{letter} = \"{text}\"")
    return "\n".join(out) + "\n"


def save_song(song: Song, path: str | os.PathLike) -> None:
    """Write a song file atomically (a failed write leaves what was there)."""
    write_atomically(path, dumps_song(song).encode("utf-8"))


__all__ = ["SongFileError", "dumps_song", "field_line", "load_song", "loads_song", "parse_cell",
           "parse_track", "save_song"]
