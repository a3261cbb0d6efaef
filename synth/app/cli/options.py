"""What every command of the command line shares: the parser, the exit statuses, the argument types,
and the option groups that several commands take (the model and voices, the style, the voice set)."""

from __future__ import annotations

import argparse
import os

from synth.app.limits import SEED_MAX, TEMPO_SCALE_MAX, TEMPO_SCALE_MIN, VOICES_MAX, VOICES_MIN
from synth.app.sources import cards_of, open_source, piece_voice_set
from synth.hardware import DEFAULT_PROFILE, PROFILES
from synth.catalog import parse_channel_voice

PROG = "liquidsky"

EXIT_OK = 0
EXIT_ERROR = 2  # as argparse uses for usage errors; one status for every user-facing error
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


class UsageError(Exception):
    """A command line that does not parse; argparse's message, without its usage block."""


class VoiceOptionError(ValueError):
    """--voice options that contradict each other."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (raised as UsageError) instead of a usage block."""

    def error(self, message: str):
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --- argument types ------------------------------------------------------------------------------


def int_in(low: int, high: int, unit: str = ""):
    """An argument type: a whole number from low to high (unit: shown after the range in errors)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high}{unit}")
        return value

    return parse


def float_in(low: float, high: float):
    """An argument type: a number from low to high."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}-{high:g}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None


def positive_seconds(text: str) -> float:
    """An argument type: a number of seconds above 0."""
    value = _seconds(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def seconds_in(low_s: float, high_s: float):
    """An argument type: a number of seconds from low_s to high_s."""

    def parse(text: str) -> float:
        value = _seconds(text)
        if not low_s <= value <= high_s:
            raise argparse.ArgumentTypeError(f"{text} is outside {low_s:g}-{high_s:g} s")
        return value

    return parse


def _suffix_type(suffixes: tuple[str, ...], what: str):
    def parse(text: str) -> str:
        if os.path.splitext(text)[1].lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"{text}: {what}")
        return text

    return parse


audio_path = _suffix_type((".wav", ".flac"), "unsupported output format (use .wav or .flac)")
midi_path = _suffix_type((".mid", ".midi"), "the arrangement is a MIDI file, OUT.mid")
picture_path = _suffix_type((".png", ".svg", ".pdf"), "unsupported picture format (use .png, .svg or .pdf)")


def format_clock(seconds: float) -> str:
    """'3:02.4' or '1:02:03.4'."""
    tenths = round(seconds * 10)
    minutes, tenths = divmod(tenths, 600)
    hours, minutes = divmod(minutes, 60)
    sec = f"{tenths // 10:02d}.{tenths % 10}"
    return f"{hours}:{minutes:02d}:{sec}" if hours else f"{minutes}:{sec}"


# --- option groups -------------------------------------------------------------------------------


def models_help() -> str:
    return ", ".join(f"{name} = {p.title}, {p.n_voices} voices" for name, p in PROFILES.items())


def add_model_options(parser: argparse.ArgumentParser, model_default: str | None = DEFAULT_PROFILE,
                      model_help: str | None = None, voices_help: str | None = None) -> None:
    """--model and --voices (the number of channel cards)."""
    parser.add_argument(
        "--model", choices=list(PROFILES), default=model_default, type=str.lower,
        help=model_help or (f"which CMI to emulate (default {DEFAULT_PROFILE}): {models_help()}; it sets the "
                            "number of voices (cards) and their sound"))
    parser.add_argument(
        "--voices", metavar="N", type=int_in(VOICES_MIN, VOICES_MAX), default=None,
        help=voices_help or (f"number of voices, i.e. channel cards, {VOICES_MIN}-{VOICES_MAX} (default: the "
                             "model's own, 8 on the Series I-IIx); when a song needs more at once, a new note "
                             "takes the card of a fading note, else of the oldest one"))


def add_style_options(parser: argparse.ArgumentParser) -> None:
    """--style, --seed and --tempo-scale, for every command that takes a piece."""
    parser.add_argument("--style", metavar="STYLE", default=None,
                        help="arrange the piece in a style first: plain, ominous, dissonant, march, ... "
                             "('liquidsky scores' lists them all); works on any MIDI file")
    parser.add_argument("--seed", metavar="N", type=int_in(0, SEED_MAX), default=0,
                        help="the seed of the style's chance choices (default 0): the same seed, the same "
                             "arrangement")
    parser.add_argument("--tempo-scale", metavar="X", type=float_in(TEMPO_SCALE_MIN, TEMPO_SCALE_MAX), default=1.0,
                        help=f"multiply every tempo by X after the style ({TEMPO_SCALE_MIN:g}-"
                             f"{TEMPO_SCALE_MAX:g}; 0.5 = half speed, default 1)")


def source_from_args(args: argparse.Namespace):
    """(display name, MIDI file) of the piece a command names, arranged in its --style for the cards of its
    --model and --voices, where the command has them."""
    return open_source(args.source, args.style, seed=args.seed, tempo_scale=args.tempo_scale,
                       voices=voices_from_args(args))


def voices_from_args(args: argparse.Namespace) -> int | None:
    """The channel cards a command's --voices or --model gives (None for a command without them)."""
    voices, model = getattr(args, "voices", None), getattr(args, "model", None)
    return cards_of(model, voices) if model is not None else voices


def add_voice_options(parser: argparse.ArgumentParser) -> None:
    """--voice NAME, --voice CH=NAME (repeatable) and --program-map FILE."""
    parser.add_argument(
        "--voice", metavar="[CH=]NAME", action="append", default=[],
        help="play every melodic channel with voice NAME, or only channel CH (1-16, not the drums' 10) "
             "with CH=NAME; repeat for more channels ('liquidsky voices' lists the names; a user voice or "
             "a .cmv file path works too)",
    )
    parser.add_argument(
        "--program-map", metavar="MAP.toml",
        help="a TOML file choosing voices for General MIDI programs (1-128), drum keys and channels, "
             "replacing the defaults it names (see the README, 'Voices')",
    )


def voice_set_from_args(args: argparse.Namespace, source: str | None = None):
    """The voice set that --voice and --program-map ask for (the General MIDI default without them),
    over the voices the piece `source` names for its channels (a Page R song's registers)."""
    every: str | None = None
    channels: dict[int, str] = {}
    for text in getattr(args, "voice", None) or []:
        channel, name = parse_channel_voice(text)
        if channel is None:
            if every is not None and every != name:
                raise VoiceOptionError(f"--voice {name}: one voice for every channel is given already ({every})")
            every = name
        else:
            if channel in channels and channels[channel] != name:
                raise VoiceOptionError(
                    f"--voice {channel + 1}={name}: channel {channel + 1} has a voice already ({channels[channel]})"
                )
            channels[channel] = name
    return piece_voice_set(source, program_map_path=getattr(args, "program_map", None), voice=every,
                           channel_voices=channels)
