"""The `liquidsky` command line; the only place that prints for the user."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# Only the standard library and the small profile table at import time: numpy, the engine and
# soundfile load inside the commands, so that `liquidsky --help` answers at once.
from synth.errors import one_line, user_errors
from synth.hardware import DEFAULT_PROFILE, PROFILES

if TYPE_CHECKING:
    from typing_extensions import Self

PROG = "liquidsky"
DESCRIPTION = (
    "liquidsky: a Fairlight CMI channel-card synthesiser; renders MIDI files the way the CMI's cards "
    "would play them"
)

RATE_MIN_HZ, RATE_MAX_HZ = 8000, 192_000
VOICES_MIN, VOICES_MAX = 1, 64
NORMALIZE_DBFS = -1.0
MAX_DURATION_DEFAULT_S = 3600.0
JOBS_MAX = 64

EXIT_OK = 0
EXIT_ERROR = 2  # as argparse uses for usage errors; one status for every user-facing error
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


class UsageError(Exception):
    """A command line that does not parse; argparse's message, without its usage block."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _LazyVersion(argparse.Action):
    """--version, reading the installed version only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("liquidsky")
        except PackageNotFoundError:
            from synth import __version__ as text
        print(f"{PROG} {text}")
        parser.exit()


def _int_in(low: int, high: int, unit: str = ""):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high}{unit}")
        return value

    return parse


def _float_in(low: float, high: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}-{high:g}")
        return value

    return parse


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def _output_path(text: str) -> str:
    if os.path.splitext(text)[1].lower() not in (".wav", ".flac"):
        raise argparse.ArgumentTypeError(f"{text}: unsupported output format (use .wav or .flac)")
    return text


def _models_help() -> str:
    return ", ".join(f"{name} = {p.title}, {p.n_voices} voices" for name, p in PROFILES.items())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=(
            "examples:\n"
            "  liquidsky render demo -o demo.wav        the built-in demo piece\n"
            "  liquidsky render song.mid -o song.flac --model iii --normalize\n"
            "  liquidsky info song.mid                  length, channels, polyphony, voice stealing\n"
            "  liquidsky render sonnerie --style ominous -o sonnerie.wav   a score of Liquid Sky, in a style\n"
            "  liquidsky scores                         the scores and the styles\n"
            "\n"
            "Run 'liquidsky COMMAND --help' for the options of a command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_LazyVersion, help="print the version and exit")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="on an error, show the full Python traceback")
    # --debug is accepted after the command too; SUPPRESS keeps the subcommand from resetting it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on an error, show the full Python traceback")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    model_help = (f"which CMI to emulate (default {DEFAULT_PROFILE}): {_models_help()}; it sets the number "
                  "of voices (cards) and their sound")
    voices_help = (f"number of voices, i.e. channel cards, {VOICES_MIN}-{VOICES_MAX} (default: the model's "
                   "own, 8 on the Series I-IIx); when a song needs more at once, a new note takes the card "
                   "of a fading note, else of the oldest one")

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
    render.add_argument("-j", "--jobs", metavar="N", type=_int_in(1, JOBS_MAX), default=1,
                        help=f"render up to N inputs at once, each in a process of its own, 1-{JOBS_MAX} "
                             "(default 1); a bad input is reported and the others go on")
    render.add_argument("--rate", metavar="HZ", type=_int_in(RATE_MIN_HZ, RATE_MAX_HZ, " Hz"), default=44100,
                        help=f"sample rate of the file in Hz, {RATE_MIN_HZ}-{RATE_MAX_HZ} (default 44100)")
    render.add_argument("--model", choices=list(PROFILES), default=DEFAULT_PROFILE, type=str.lower,
                        help=model_help)
    render.add_argument("--voices", metavar="N", type=_int_in(VOICES_MIN, VOICES_MAX), default=None,
                        help=voices_help)
    render.add_argument("--bits", type=int, choices=(16, 24), default=16,
                        help="bits per sample of the file: 16 (CD) or 24 (default 16)")
    render.add_argument("--normalize", action="store_true",
                        help=f"scale the whole render so that its loudest sample is at {NORMALIZE_DBFS:g} "
                             "dBFS (makes quiet songs louder and keeps loud ones from clipping)")
    render.add_argument("--stems", metavar="DIR",
                        help="also write each card's output as a mono file in DIR (card-1.wav, card-2.wav, "
                             "...), for mixing elsewhere; DIR is created if needed (with several inputs, "
                             "DIR/NAME/ for each)")
    render.add_argument("--max-duration", metavar="SECONDS", type=_positive_seconds,
                        default=MAX_DURATION_DEFAULT_S,
                        help="refuse songs longer than this many seconds of audio, before rendering "
                             f"(default {MAX_DURATION_DEFAULT_S:g}, one hour)")
    render.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar and no summary; errors are still reported")
    from synth.cli_scores import add_style_options
    from synth.cli_voice import add_voice_options

    add_style_options(render)
    add_voice_options(render)
    from synth.cli_collections import add_collection_options

    add_collection_options(render)
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
    info.add_argument("--model", choices=list(PROFILES), default=DEFAULT_PROFILE, type=str.lower,
                      help=f"the CMI whose voice count to assume (default {DEFAULT_PROFILE})")
    info.add_argument("--voices", metavar="N", type=_int_in(VOICES_MIN, VOICES_MAX), default=None,
                      help=f"number of voices, {VOICES_MIN}-{VOICES_MAX} (default: the model's own)")
    add_style_options(info)
    info.set_defaults(run=_cmd_info)

    # Further command groups live in modules of their own; each module imports its heavy
    # dependencies inside its handlers, so that --help stays fast.
    from synth import cli_live, cli_scores, cli_voice

    cli_voice.register(commands, common)
    cli_live.register(commands, common)
    cli_scores.register(commands, common)
    from synth import cli_studio

    cli_studio.register(commands, common)

    from synth import cli_pager  # Page R songs

    cli_pager.register(commands, common)
    return parser


# --- the commands --------------------------------------------------------------------------------


def format_clock(seconds: float) -> str:
    """'3:02.4' or '1:02:03.4'."""
    tenths = round(seconds * 10)
    minutes, tenths = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    sec = f"{tenths // 10:02d}.{tenths % 10}"
    return f"{hours}:{minutes:02d}:{sec}" if hours else f"{minutes}:{sec}"


def _say_limit(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:g} s"


def _too_long_message(name: str, e, max_duration_s: float) -> str:
    from synth.offline import say_duration

    return (f"{name}: {say_duration(e.n_frames / e.rate_hz)} of audio exceeds --max-duration "
            f"{_say_limit(max_duration_s)}")


def _render_options(args: argparse.Namespace) -> dict:
    return {
        "rate_hz": args.rate, "model": args.model, "n_voices": args.voices, "bits": args.bits,
        "normalize_dbfs": NORMALIZE_DBFS if args.normalize else None,
        "max_frames": round(args.max_duration * args.rate),
    }


def _summary_line(output: str, report, bits: int, stems_dir: str | None) -> str:
    peak = "silent" if report.peak_dbfs == float("-inf") else f"peak {report.peak_dbfs:.1f} dBFS"
    line = (f"wrote {output}: {format_clock(report.duration_s)}, {report.rate_hz} Hz, "
            f"{bits}-bit stereo, {peak}")
    if report.n_clipped:
        line += f", {report.n_clipped:,} samples clipped (use --normalize)"
    if report.notes_stolen:
        plural = "" if report.notes_stolen == 1 else "s"
        line += f", {report.notes_stolen:,} note{plural} stolen"
    if report.stem_paths:
        line += f"; {len(report.stem_paths)} stems in {stems_dir}"
    return line


def _cmd_render(args: argparse.Namespace) -> int:
    from synth import cli_collections
    from synth.batch import BatchError, expand_inputs

    if args.jobs_file:
        return cli_collections.render_jobs_file(args)
    if not args.source:
        raise BatchError("render: give a SOURCE to render (or --jobs-file JOBS)")
    # A folder in or out means folder mode, even for one input: `render song.mid -o renders/` writes
    # renders/song.wav.
    batch = (len(args.source) > 1 or os.path.isdir(args.output) or cli_collections.is_batch(args)
             or any(os.path.isdir(s) and s not in _builtin_names() for s in args.source))
    if batch:
        inputs, problems = expand_inputs(args.source)
        return _render_batch(args, inputs, problems)
    return _render_one(args)


def _builtin_names() -> list[str]:
    from synth.sources import builtin_names

    return builtin_names()


def _render_one(args: argparse.Namespace) -> int:
    from synth.cli_voice import voice_set_from_args
    from synth.offline import TooLongError, render_to_file
    from synth.sinks import SinkError, output_format

    output_format(args.output)  # an unsupported extension fails before any work
    if args.format is not None and os.path.splitext(args.output)[1].lower() != f".{args.format}":
        raise SinkError(f"{args.output}: --format {args.format} does not match the file's extension")
    [source] = args.source
    events, name = _packed_source(source, args.rate, args)
    voices = voice_set_from_args(args, source)
    with _Progress(enabled=not args.quiet and sys.stderr.isatty(), rate_hz=args.rate) as progress:
        try:
            report = render_to_file(events, args.output, stems_dir=args.stems, progress=progress.update, name=name,
                                    voices=voices, **_render_options(args))
        except TooLongError as e:
            raise TooLongError(_too_long_message(name, e, args.max_duration), e.n_frames, e.max_frames,
                               e.rate_hz) from None
    if not args.quiet:
        print(_summary_line(args.output, report, args.bits, args.stems))
    return EXIT_OK


def _packed_source(source: str, rate_hz: int, args: argparse.Namespace):
    """(packed events, display name) of a piece in its --style; the parsed file is let go before the
    render, so that the memory it takes does not stay for the whole render."""
    from synth.midifile import pack_events
    from synth.sources import open_source

    name, midi = open_source(source, args.style, seed=args.seed, tempo_scale=args.tempo_scale)
    return pack_events(midi, rate_hz), name


def _batch_error(job, e: BaseException) -> str:
    """A job's failure as one line (run in the worker: a module-level function, so it can be sent)."""
    from synth.offline import TooLongError

    if isinstance(e, TooLongError):
        return _too_long_message(os.path.basename(job.source), e, job.options["max_frames"] / e.rate_hz)
    return one_line(e)


def _render_batch(args: argparse.Namespace, inputs: list[str], problems: list[tuple[str, str]]) -> int:
    from synth.cli_collections import render_inputs

    return render_inputs(args, inputs, problems)


def _cmd_info(args: argparse.Namespace) -> int:
    import json

    from synth.cli_scores import source_from_args
    from synth.midifile import describe

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


class _Progress:
    """A tqdm bar on stderr counting seconds of audio rendered, or nothing."""

    def __init__(self, enabled: bool, rate_hz: int) -> None:
        self.enabled = enabled
        self.rate_hz = rate_hz
        self.bar = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, n_done: int, n_estimated: int) -> None:
        if not self.enabled:
            return
        done_s, total_s = n_done / self.rate_hz, n_estimated / self.rate_hz
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=round(total_s, 1), unit="s", file=sys.stderr, leave=False,
                            desc="rendering", dynamic_ncols=True,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s of audio "
                                       "[{elapsed}<{remaining}]")
        if round(total_s, 1) != self.bar.total:
            self.bar.total = round(total_s, 1)
        self.bar.update(done_s - self.bar.n)


class _BatchProgress:
    """One tqdm bar on stderr over every input of a batch, counting files (a render in progress
    counts as the part of it done), or nothing; lines printed go above the bar."""

    def __init__(self, n_files: int, enabled: bool) -> None:
        self.enabled = enabled
        self.n_files = n_files
        self.parts: dict[int, float] = {}
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=n_files, unit="file", file=sys.stderr, leave=False, desc="rendering",
                            dynamic_ncols=True,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.1f}/{total} files "
                                       "[{elapsed}<{remaining}]")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()

    def _show(self) -> None:
        if self.bar is not None:
            self.bar.update(sum(self.parts.values()) - self.bar.n)

    def update(self, index: int, n_done: int, n_estimated: int) -> None:
        self.parts[index] = min(1.0, n_done / n_estimated) if n_estimated > 0 else 0.0
        self._show()

    def finish(self, index: int) -> None:
        self.parts[index] = 1.0
        self._show()

    def say(self, line: str, stream) -> None:
        if self.bar is not None:
            from tqdm import tqdm

            tqdm.write(line, file=stream)
        else:
            print(line, file=stream, flush=True)


# --- the entry point -----------------------------------------------------------------------------


class _Terminated(KeyboardInterrupt):
    """SIGTERM, unwinding like Ctrl-C so that the writers remove their temporary files."""


def _raise_on_sigterm(signum, frame):
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 2 for errors, 130 when interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else EXIT_OK
    debug = getattr(args, "debug", False)

    previous_sigterm = None
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        return args.run(args)
    except KeyboardInterrupt as e:
        if debug:
            import traceback

            traceback.print_exc()
        if isinstance(e, _Terminated):
            print(f"{PROG}: terminated", file=sys.stderr)
            return EXIT_TERMINATED
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (liquidsky info ... | head); nothing more to say.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except Exception as e:
        if debug:
            import traceback

            traceback.print_exc()
        if isinstance(e, user_errors()):
            print(f"{PROG}: error: {one_line(e)}", file=sys.stderr)
        else:
            print(f"{PROG}: error: unexpected {type(e).__name__}: {one_line(e)} "
                  "(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
