"""The command line's pager subcommands: Page R songs exported to MIDI, imported from MIDI, and shown as text."""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import replace

from synth.app.cli.options import format_clock, int_in
from synth.midifile import read_midi
from synth.pager import SongError, dumps_song, load_song, song_to_midi
from synth.pager.display import song_text
from synth.pager.frommidi import import_midi
from synth.pager.song import GRIDS
from synth.sinks import write_atomically

LOOP_TIMES_MAX = 65536


def _suffix(*suffixes: str, what: str):
    def check(text: str) -> str:
        if os.path.splitext(text)[1].lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text}: {what}")
        return text

    return check


def _grid(text: str) -> str:
    grid = text.strip()
    grid = grid[:-1] + "T" if grid.endswith(("t", "T")) else grid
    if grid not in GRIDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a grid (use one of {', '.join(GRIDS)})")
    return grid


def _loop(text: str) -> tuple[int, int]:
    number, sep, times = text.lower().partition("x")
    try:
        n, t = int(number), int(times) if sep else 1
    except ValueError:
        n = t = 0
    if not 1 <= n <= 255 or not 1 <= t <= LOOP_TIMES_MAX:
        raise argparse.ArgumentTypeError(f"{text!r}: use N or NxTIMES, pattern N 1-255, TIMES 1-{LOOP_TIMES_MAX}")
    return n, t


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the pager command and its actions to the parser (common: the shared --debug option)."""
    pager = commands.add_parser(
        "pager", parents=[common], help="Page R songs: export to MIDI, import from MIDI, show as text",
        description=(
            "Page R, the CMI's Real Time Composer: songs of one-bar patterns on eight monophonic tracks,\n"
            "played in the order of a song list, written as a TOML file (see the README, 'Page R').\n"
            "render, play, info and arrange take a song file (SONG.toml) wherever they take a MIDI file."
        ),
        epilog=(
            "examples:\n"
            "  liquidsky pager show examples/undertow.toml\n"
            "  liquidsky pager export examples/undertow.toml -o undertow.mid\n"
            "  liquidsky pager import song.mid -o song.toml --grid 1/8T\n"
            "  liquidsky render examples/undertow.toml -o undertow.wav"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = pager.add_subparsers(dest="pager_command", metavar="ACTION")
    sub.required = True

    export = sub.add_parser(
        "export", parents=[common], help="write a song as a type-1 MIDI file",
        description="Play a song's list out (sections and repeats) into a type-1 MIDI file at the song's "
                    "speed: a track for each Page R track, on its register's channel, at 1920 ticks a beat.",
    )
    export.add_argument("song", metavar="SONG.toml", help="the song file")
    export.add_argument("-o", "--output", metavar="OUT.mid", required=True,
                        type=_suffix(".mid", ".midi", what="the export is a MIDI file, OUT.mid"),
                        help="the MIDI file to write; it appears only once complete")
    export.add_argument("--from-step", metavar="N", type=int_in(1, 255), default=1,
                        help="start at step N of the song list, counted from 1 as 'pager show' numbers them "
                             "(default 1)")
    export.add_argument("--loop-pattern", metavar="N[xTIMES]", type=_loop, default=None,
                        help="instead of the song, pattern N played TIMES times (default once)")
    export.set_defaults(run=_cmd_export)

    imp = sub.add_parser(
        "import", parents=[common], help="make a song of a MIDI file",
        description=(
            "Make a Page R song of a MIDI file: notes moved to the nearest step of the grid (each keeps\n"
            "its length), one bar a pattern, the same bar again one pattern with repeats. At most eight\n"
            "tracks: every channel gets one, busiest first, then channels playing chords get more. A\n"
            "chord is split over its channel's tracks, highest note first; when it has more notes than\n"
            "tracks, its highest are kept. A note starting while its track sounds ends the one before.\n"
            "The song plays at the file's first tempo. What was left out is said on the last line."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("midi", metavar="IN.mid", help="the MIDI file")
    imp.add_argument("-o", "--output", metavar="OUT.toml", required=True,
                     type=_suffix(".toml", what="a song is a TOML file, OUT.toml"),
                     help="the song file to write; it appears only once complete")
    imp.add_argument("--grid", type=_grid, default="1/16", metavar="GRID",
                     help="the time grid: 1/4, 1/8, 1/16, 1/32, or a triplet 1/8T, 1/16T, ... (default 1/16)")
    imp.add_argument("--title", default=None, help="the song's title (default: the file's, if it names one)")
    imp.set_defaults(run=_cmd_import)

    show = sub.add_parser(
        "show", parents=[common], help="print a song: its list, sections, registers and pattern grids",
        description="Print a song as text: the song list with each step's bars and start time, the "
                    "sections, the registers, and each pattern's grid (a row a track, '|' at each beat). "
                    "A MIDI file is shown as 'pager import' would make it.",
    )
    show.add_argument("song", metavar="SONG", help="a song file (.toml), or a MIDI file to see it imported")
    show.add_argument("--pattern", metavar="N", type=int_in(1, 255), action="append", default=None,
                      help="show only pattern N (repeatable; default every pattern)")
    show.add_argument("--grid", type=_grid, default="1/16", metavar="GRID",
                      help="for a MIDI file: the grid to import it on (default 1/16)")
    show.set_defaults(run=_cmd_show)


def _open_song(path: str, grid: str = "1/16"):
    """(song, import report or None) of a song file, or of a MIDI file imported on a grid."""
    if os.path.splitext(path)[1].lower() in (".mid", ".midi"):
        midi = read_midi(path)
        try:
            report = import_midi(midi, grid=grid)
        except SongError as e:
            raise SongError(f"{path}: {e}") from None
        return report.song, report
    return load_song(path), None


def _cmd_export(args: argparse.Namespace) -> int:
    song = load_song(args.song)
    if args.from_step > len(song.song):
        raise SongError(f"{args.song}: --from-step {args.from_step}: the song list has {len(song.song)} steps")
    if args.loop_pattern is not None and args.loop_pattern[0] not in song.patterns:
        raise SongError(f"{args.song}: --loop-pattern: pattern {args.loop_pattern[0]} is not in the song "
                        f"(it has {', '.join(map(str, song.patterns))})")
    midi = song_to_midi(song, from_step=args.from_step - 1, loop_pattern=args.loop_pattern)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    write_atomically(args.output, buffer.getvalue())
    n_notes = sum(1 for track in midi.tracks for msg in track if msg.type == "note_on")
    print(f"wrote {args.output}: {format_clock(midi.length)}, {n_notes:,} notes on {len(midi.tracks) - 1} tracks")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    _, report = _open_song(args.midi, args.grid) if _is_midi(args.midi) else (None, None)
    if report is None:
        raise SongError(f"{args.midi}: not a MIDI file (.mid or .midi)")
    song = report.song
    if args.title is not None:
        song = replace(song, title=args.title)
    write_atomically(args.output, dumps_song(song).encode("utf-8"))
    used = sum(1 for i in range(8) if song.track_used(i))
    channels = len({song.registers[i].channel for i in range(8) if song.track_used(i)})
    print(f"wrote {args.output}: {len(song.patterns)} patterns, {len(song.song)} song steps, {used} tracks from "
          f"{channels} channels, speed {song.speed}, on a {report.grid} grid")
    notes = []
    if report.n_dropped:
        notes.append(f"{report.n_dropped:,} of {report.n_notes:,} notes dropped (chords larger than their "
                     "channel's tracks: the highest kept)")
    if report.channels_left_out:
        notes.append("channels left out (more than 8 tracks): "
                     + ", ".join(str(ch + 1) for ch in report.channels_left_out))
    if report.tempo_changes_ignored:
        notes.append(f"{report.tempo_changes_ignored} tempo changes left out (the song plays at the first tempo)")
    if report.bars_on_fallback_grid:
        notes.append(f"{report.bars_on_fallback_grid} bars on a 1/32 grid ({report.grid} does not divide their metre)")
    if notes:
        print("note: " + "; ".join(notes), file=sys.stderr)
    return 0


def _is_midi(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in (".mid", ".midi")


def _cmd_show(args: argparse.Namespace) -> int:
    song, _ = _open_song(args.song, args.grid)
    for number in args.pattern or []:
        if number not in song.patterns:
            raise SongError(f"{args.song}: --pattern {number}: no such pattern "
                            f"(the song has {', '.join(map(str, song.patterns))})")
    sys.stdout.write(song_text(song, args.pattern))
    return 0
