"""A song as text: its song list with each step's bars and time, its sections, registers and pattern grids."""

from __future__ import annotations

from synth.pager.fileformat import track_texts
from synth.pager.sequencer import TICKS_PER_BEAT, played_bars, tempo_us
from synth.pager.song import DRUM_CHANNEL, TRACK_NAMES, Play, Register, Song, speed_to_bpm


def clock(seconds: float) -> str:
    """'1:02.5'."""
    tenths = round(seconds * 10)
    minutes, tenths = divmod(tenths, 600)
    return f"{minutes}:{tenths // 10:02d}.{tenths % 10}"


def _entry(entry) -> str:
    if isinstance(entry, Play):
        return f"{entry.pattern}" + (f"x{entry.repeats}" if entry.repeats > 1 else "")
    return entry


def song_list_lines(song: Song) -> list[str]:
    """A line per song step: its number (1-based), what it plays, its bars and its start time."""
    bars = played_bars(song)
    end_s = (bars[-1].start_tick + bars[-1].n_ticks) / TICKS_PER_BEAT * tempo_us(song.speed) / 1e6
    lines = []
    first_bar: dict[int, int] = {}
    last_bar: dict[int, int] = {}
    start_s: dict[int, float] = {}
    for i, bar in enumerate(bars):
        first_bar.setdefault(bar.step, i + 1)
        last_bar[bar.step] = i + 1
        start_s.setdefault(bar.step, bar.start_s)
    for step, entry in enumerate(song.song):
        span = f"bar {first_bar[step]}" if first_bar[step] == last_bar[step] else \
            f"bars {first_bar[step]}-{last_bar[step]}"
        lines.append(f"  {step + 1:>3}  {_entry(entry):<8} {span:<14} {clock(start_s[step])}")
    lines.append(f"  end  {len(bars)} bars, {clock(end_s)}")
    return lines


def pattern_lines(song: Song, number: int) -> list[str]:
    """A pattern's grid: a ruler of step numbers at each beat, then a row per track that plays."""
    pattern = song.patterns[number]
    drums = frozenset(i for i, reg in enumerate(song.registers) if reg.channel == DRUM_CHANNEL)
    texts = track_texts(pattern, drums)
    name = f" \"{pattern.name}\"" if pattern.name else ""
    n, d = pattern.metre
    lines = [f"pattern {number}{name}: {n}/{d} on a {pattern.grid} grid, {pattern.n_steps} steps"]
    used = [i for i, track in enumerate(pattern.tracks) if any(c is not None for c in track)]
    for i in used:
        lines.append(f"  {TRACK_NAMES[i]}  {texts[i]}")
    if not used:
        lines.append("  (every track rests)")
    return lines


def register_lines(song: Song) -> list[str]:
    lines = []
    for i, (letter, reg) in enumerate(zip(TRACK_NAMES, song.registers, strict=True)):
        if not song.track_used(i) and reg == Register(channel=i):
            continue
        voice = reg.voice or "(the channel's program)"
        lines.append(f"  {letter}  channel {reg.channel + 1:<2}  level {reg.level:<3}  {voice}")
    return lines


def song_text(song: Song, patterns: list[int] | None = None) -> str:
    """The whole song as text, or its song list and only the patterns given."""
    title = song.title or "untitled"
    lines = [f"{title}: speed {song.speed} ({speed_to_bpm(song.speed):.6g} BPM), {len(song.patterns)} patterns, "
             f"{len(song.song)} song steps", "song list:", *song_list_lines(song)]
    if song.sections:
        lines.append("sections:")
        lines += [f"  {name}  {' '.join(_entry(e) for e in entries)}" for name, entries in song.sections.items()]
    lines.append("registers:")
    lines += register_lines(song) or ["  (every track on its own channel, the channel's program)"]
    for number in (song.patterns if patterns is None else patterns):
        lines.append("")
        lines += pattern_lines(song, number)
    return "\n".join(lines) + "\n"
