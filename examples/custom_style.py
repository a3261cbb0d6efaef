"""Make a style of your own from the transformations, and arrange a score or any MIDI file with it.

    python examples/custom_style.py laurel -o laurel-funeral.mid          # one of the scores
    python examples/custom_style.py song.mid -o song-funeral.mid --wav song-funeral.wav

The style here, "funeral", is a waltz turned into a procession: Locrian, a tonic-and-flat-second pedal,
the bass an octave lower, at half speed, on the voices of dread. A style is a name, a line saying what it
does, and its steps: transformations from scores.transforms with their parameters. The seed feeds the
steps that draw on chance, so the same seed gives the same arrangement.
"""

from __future__ import annotations

import argparse

from scores.arrange import arrange
from scores.score import to_midi
from scores.styles import Step, Style
from synth.app.sources import open_source

FUNERAL = Style("funeral", "a slow Locrian procession over a tonic and flat-second pedal", (
    Step("locrian"),
    Step("pedal", {"kind": "tonic_flat2", "every_bars": 2, "velocity": 40}),
    Step("octave_doubling", {"octaves": (-1,), "roles": ("bass",)}),
    Step("tempo_scale", {"factor": 0.5}),
    Step("dread_voices"),
    Step("dynamics", {"scale": 0.7, "sforzando_chance": 0.02}),
))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a score's name (sonnerie, trionfo, laurel) or a .mid file")
    parser.add_argument("-o", "--output", required=True, help="the arrangement, OUT.mid")
    parser.add_argument("--wav", help="also render it to this WAV or FLAC file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    _, midi = open_source(args.source)
    score = arrange(midi, FUNERAL, seed=args.seed)
    arranged = to_midi(score)
    arranged.save(args.output)
    print(f"{args.output}: {score.title}, {score.duration_s:.1f} s, {len(score.notes)} notes")
    if args.wav:
        from synth.offline import render_to_file

        report = render_to_file(arranged, args.wav, max_frames=None)
        print(f"{args.wav}: {report.duration_s:.1f} s, peak {report.peak_dbfs:.1f} dBFS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
