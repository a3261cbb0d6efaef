"""The command line's render and info commands."""

from __future__ import annotations

import argparse
import json
import os
import sys

from synth.app.batch import BatchError, expand_inputs
from synth.app.cli import collections
from synth.app.cli.options import (
    EXIT_OK,
    add_model_options,
    add_style_options,
    add_voice_options,
    format_clock,
    int_in,
    positive_seconds,
    source_from_args,
    voice_set_from_args,
    voices_from_args,
)
from synth.app.cli.reports import Progress, summary_line, too_long_message
from synth.app.limits import (
    DEFAULT_RATE_HZ,
    JOBS_MAX,
    MAX_DURATION_DEFAULT_S,
    NORMALIZE_DBFS,
    RATE_MAX_HZ,
    RATE_MIN_HZ,
    VOICES_MAX,
    VOICES_MIN,
)
from synth.app.sources import builtin_names, open_source
from synth.hardware import DEFAULT_PROFILE, PROFILES
from synth.midifile import describe, pack_events
from synth.offline import TooLongError, render_to_file
from synth.sinks import SinkError, output_format


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add render and info to the parser (common: the shared --debug option)."""
    render = commands.add_parser(
        "render", parents=[common],
        help="render a MIDI file (or a built-in piece) to a WAV or FLAC file",
        description=(
            "Render a MIDI file to audio as the CMI's channel cards would play it: every note on a card\n"
            "of its own, 8-bit samples, pitch by the card's clock, analog low-pass. The file ends when\n"
            "the last note's release has died away.\n"
            "\n"
            "Given several inputs, a folder or a jobs file, each is rendered into the folder -o names\n"
            "and recorded in OUT/manifest.jsonl, going on past a bad file; the exit status is 2 if any\n"
            "failed, 0 if all were written."
        ),
        epilog=(
            "examples:\n"
            "  liquidsky render song.mid -o song.flac\n"
            "  liquidsky render a.mid b.mid midi/ -o out/ --format flac --jobs 2\n"
            "  liquidsky render --jobs-file jobs.jsonl -o out/ --dask local:2 --resume"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument("source", metavar="SOURCE", nargs="*",
                        help="a .mid file, a Page R song (.toml), the name of a built-in piece (try 'demo') or of a "
                             "score ('liquidsky "
                             "scores' lists them), or a folder of .mid files; several may be given")
    render.add_argument("-o", "--output", metavar="OUT", required=True,
                        help="for one input, the audio file to write, OUT.wav or OUT.flac (the extension "
                             "picks the format); for several inputs or a folder, the folder to write "
                             "them to (created if needed), each as NAME.wav or NAME.flac after its input; "
                             "a file appears only once complete")
    render.add_argument("--format", choices=("wav", "flac"), type=str.lower, default=None,
                        help="the format of the files written to an output folder (default wav)")
    render.add_argument("-j", "--jobs", metavar="N", type=int_in(1, JOBS_MAX), default=1,
                        help=f"render up to N inputs at once, each in a process of its own, 1-{JOBS_MAX} "
                             "(default 1); a bad input is reported and the others go on")
    render.add_argument("--rate", metavar="HZ", type=int_in(RATE_MIN_HZ, RATE_MAX_HZ, " Hz"), default=DEFAULT_RATE_HZ,
                        help=f"sample rate of the file in Hz, {RATE_MIN_HZ}-{RATE_MAX_HZ} (default {DEFAULT_RATE_HZ})")
    add_model_options(render)
    render.add_argument("--bits", type=int, choices=(16, 24), default=16,
                        help="bits per sample of the file: 16 (CD) or 24 (default 16)")
    render.add_argument("--normalize", action="store_true",
                        help=f"scale the whole render so that its loudest sample is at {NORMALIZE_DBFS:g} "
                             "dBFS (makes quiet songs louder and keeps loud ones from clipping)")
    render.add_argument("--stems", metavar="DIR",
                        help="also write each card's output as a mono file in DIR (card-1.wav, card-2.wav, "
                             "...), for mixing elsewhere; DIR is created if needed (with several inputs, "
                             "DIR/NAME/ for each)")
    render.add_argument("--max-duration", metavar="SECONDS", type=positive_seconds,
                        default=MAX_DURATION_DEFAULT_S,
                        help="refuse songs longer than this many seconds of audio, before rendering "
                             f"(default {MAX_DURATION_DEFAULT_S:g}, one hour)")
    render.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar and no summary; errors are still reported")
    add_style_options(render)
    add_voice_options(render)
    collections.add_collection_options(render)
    render.set_defaults(run=_cmd_render)

    info = commands.add_parser(
        "info", parents=[common],
        help="describe a MIDI file: length, channels, programs, polyphony",
        description=(
            "Describe a MIDI file without rendering it: its length, tracks, channels and programs, how "
            "many notes sound at once, and how many would be stolen on a CMI with the given voices."
        ),
    )
    info.add_argument("source", metavar="SOURCE",
                      help="a .mid file, a Page R song (.toml), or the name of a built-in piece or score")
    info.add_argument("--json", action="store_true", help="print the description as JSON")
    add_model_options(info, model_help=f"the CMI whose voice count to assume (default {DEFAULT_PROFILE})",
                      voices_help=f"number of voices, {VOICES_MIN}-{VOICES_MAX} (default: the model's own)")
    add_style_options(info)
    info.set_defaults(run=_cmd_info)


def _render_options(args: argparse.Namespace) -> dict:
    return {
        "rate_hz": args.rate, "model": args.model, "n_voices": args.voices, "bits": args.bits,
        "normalize_dbfs": NORMALIZE_DBFS if args.normalize else None,
        "max_frames": round(args.max_duration * args.rate),
    }


def _cmd_render(args: argparse.Namespace) -> int:
    if args.jobs_file:
        return collections.render_jobs_file(args)
    if not args.source:
        raise BatchError("render: give a SOURCE to render (or --jobs-file JOBS)")
    # A folder in or out means folder mode, even for one input: `render song.mid -o renders/` writes
    # renders/song.wav.
    batch = (len(args.source) > 1 or os.path.isdir(args.output) or collections.is_batch(args)
             or any(os.path.isdir(s) and s not in builtin_names() for s in args.source))
    if batch:
        inputs, problems = expand_inputs(args.source)
        return collections.render_inputs(args, inputs, problems)
    return _render_one(args)


def _render_one(args: argparse.Namespace) -> int:
    output_format(args.output)  # an unsupported extension fails before any work
    if args.format is not None and os.path.splitext(args.output)[1].lower() != f".{args.format}":
        raise SinkError(f"{args.output}: --format {args.format} does not match the file's extension")
    [source] = args.source
    events, name = _packed_source(source, args.rate, args)
    voices = voice_set_from_args(args, source)
    with Progress(enabled=not args.quiet and sys.stderr.isatty(), rate_hz=args.rate) as progress:
        try:
            report = render_to_file(events, args.output, stems_dir=args.stems, progress=progress.update, name=name,
                                    voices=voices, **_render_options(args))
        except TooLongError as e:
            raise TooLongError(too_long_message(name, e, args.max_duration), e.n_frames, e.max_frames,
                               e.rate_hz) from None
    if not args.quiet:
        print(summary_line(args.output, report, args.bits, args.stems))
    return EXIT_OK


def _packed_source(source: str, rate_hz: int, args: argparse.Namespace):
    """(packed events, display name) of a piece in its --style; the parsed file is let go before the
    render, so that the memory it takes does not stay for the whole render."""
    name, midi = open_source(source, args.style, seed=args.seed, tempo_scale=args.tempo_scale,
                             voices=voices_from_args(args))
    return pack_events(midi, rate_hz), name


def _cmd_info(args: argparse.Namespace) -> int:
    name, midi = source_from_args(args)
    n_voices = args.voices or PROFILES[args.model].n_voices
    summary = describe(midi, n_voices)
    if args.json:
        print(json.dumps({"source": name, "n_voices": n_voices, **summary}, indent=2, default=str))
    else:
        print(name)
        for key, value in summary.items():
            label, text = _info_line(key, value, n_voices)
            print(f"  {label}: {text}")
    return EXIT_OK


def _info_line(key: str, value, n_voices: int) -> tuple[str, str]:
    """A readable label and value for one entry of synth.midifile.describe."""
    if key == "duration_s" and isinstance(value, (int, float)):
        return "length", format_clock(value)
    if key == "tempo_bpm_first":
        return "tempo at the start", "- (SMPTE time)" if value is None else f"{value:.6g} BPM"
    if key == "programs" and isinstance(value, dict):
        text = "; ".join(f"ch {ch}: {_show(p)}" for ch, p in value.items())
        return "programs", text or "none"
    if key == "notes_stolen":
        return f"notes stolen with {n_voices} voices", _show(value)
    labels = {"format": "MIDI format", "n_tracks": "tracks", "channels": "channels with notes",
              "n_notes": "notes", "peak_polyphony": "most notes at once"}
    label = labels.get(key) or key.removeprefix("n_").replace("_", " ")
    return label, _show(value)


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) if value else "none"
    if value is None:
        return "-"
    return str(value)
