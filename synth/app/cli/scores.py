"""The command line's score subcommands: scores (the pieces and the styles) and arrange."""

from __future__ import annotations

import argparse
import io
import json
import sys

from scores import CATALOGUE
from scores.arrange import arrange, score_midi
from scores.score import to_midi
from scores.styles import STYLES
from synth.app.cli.options import add_style_options, format_clock, midi_path
from synth.app.sources import open_source
from synth.midifile import describe
from synth.sinks import write_atomically


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's subcommands to the parser (common: the shared --debug option)."""
    scores = commands.add_parser(
        "scores", parents=[common],
        help="list the scores of Liquid Sky and the styles to arrange them (or any MIDI file) in",
        description=(
            "List the three pieces quoted in the score of Liquid Sky, as arranged for the CMI (names to "
            "give render, play, info and arrange), and the styles every piece or MIDI file can be "
            "arranged in, with the transformations each applies."
        ),
    )
    scores.add_argument("--json", action="store_true", help="print the list as JSON")
    scores.set_defaults(run=_cmd_scores)

    arrange = commands.add_parser(
        "arrange", parents=[common],
        help="arrange a score or a MIDI file in a style, to a new MIDI file",
        description=(
            "Arrange one of the scores, or any MIDI file, in a style (ominous, dissonant, march, ...)\n"
            "and write the arrangement as a MIDI file for a sequencer or for 'liquidsky render'.\n"
            "The same seed gives the same arrangement, byte for byte."
        ),
        epilog="example:\n  liquidsky arrange sonnerie --style march -o sonnerie-march.mid",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    arrange.add_argument("source", metavar="SOURCE",
                         help="a score's name (see 'liquidsky scores'), a .mid file or a Page R song (.toml)")
    arrange.add_argument("-o", "--output", metavar="OUT", required=True, type=midi_path,
                         help="the MIDI file to write, OUT.mid; it appears only once complete")
    add_style_options(arrange)
    arrange.set_defaults(run=_cmd_arrange)


def _cmd_scores(args: argparse.Namespace) -> int:
    pieces = []
    for info in CATALOGUE.values():
        midi = score_midi(info.name)
        pieces.append({"name": info.name, "title": info.title, "after": info.after, "summary": info.summary,
                       "duration_s": round(midi.length, 1)})
    styles = [{"name": s.name, "summary": s.summary, "steps": [step.name for step in s.steps]}
              for s in STYLES.values()]
    if args.json:
        print(json.dumps({"scores": pieces, "styles": styles}, indent=2))
        return 0
    print("scores (give the name to render, play, info or arrange):")
    width = max(len(p["name"]) for p in pieces)
    for p in pieces:
        print(f"  {p['name']:<{width}}  {p['title']}, {format_clock(p['duration_s'])}")
        print(f"  {'':<{width}}  after {p['after']}")
        print(f"  {'':<{width}}  {p['summary']}")
    print("\nstyles (--style; they work on any MIDI file):")
    width = max(len(s["name"]) for s in styles)
    for s in styles:
        print(f"  {s['name']:<{width}}  {s['summary']}")
        if s["steps"]:
            print(f"  {'':<{width}}  steps: {', '.join(s['steps'])}")
    return 0


def _cmd_arrange(args: argparse.Namespace) -> int:
    name, midi = open_source(args.source)
    score = arrange(midi, args.style or "plain", seed=args.seed, tempo_scale=args.tempo_scale)
    out = to_midi(score)
    buffer = io.BytesIO()
    out.save(file=buffer)
    write_atomically(args.output, buffer.getvalue())
    stolen = describe(out, 8)["notes_stolen"]
    print(f"wrote {args.output}: {score.title}, {format_clock(score.duration_s)}, {len(score.notes):,} notes in "
          f"{len(score.parts)} parts, at most {score.max_polyphony()} at once"
          + (f" ({stolen:,} would be stolen on 8 voices)" if stolen else ""), file=sys.stdout)
    return 0
