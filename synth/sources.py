"""What a piece named on the command line resolves to: a built-in piece, one of the scores, or a MIDI file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import mido

from synth.demo import demo_midi

# Built-in pieces by the name a user types. A name here wins over a file of the same name in the
# current directory; "./demo" reaches the file.
BUILTINS: dict[str, Callable[[], mido.MidiFile]] = {
    "demo": demo_midi,
}


class SourceError(ValueError):
    """A name that is neither a built-in piece, nor a score, nor an existing file."""


def builtin_names() -> list[str]:
    """The names of the built-in pieces and of the scores, in that order."""
    from scores import score_names

    return sorted(BUILTINS) + score_names()


def open_source(name_or_path: str | os.PathLike, style: str | None = None, *, seed: int = 0,
                tempo_scale: float = 1.0) -> tuple[str, mido.MidiFile]:
    """Resolve a built-in name, a score's name or a path to (display name, MIDI file).

    With a style other than plain (or a tempo scale other than 1) the piece is arranged first
    (scores.arrange) and the display name says so: "sonnerie (ominous)". The display name is otherwise
    the name, or the file's name without its directory. Reading errors of an existing file are raised by
    synth.midifile as MidiFileError; an unknown style as scores.styles.StyleError (ValueErrors, like
    SourceError).
    """
    name = os.fspath(name_or_path)
    arranging = (style not in (None, "plain")) or tempo_scale != 1.0
    if arranging:
        from scores.styles import get_style

        get_style(style or "plain")  # an unknown style is named before any file is read
    display, midi = _open_plain(name)
    if not arranging:
        return display, midi
    from scores.arrange import arrange_midi

    label = style or "plain"
    if tempo_scale != 1.0:
        label += f", tempo x{tempo_scale:g}"
    return f"{display} ({label})", arrange_midi(midi, style or "plain", seed=seed, tempo_scale=tempo_scale)


def _open_plain(name: str) -> tuple[str, mido.MidiFile]:
    if name in BUILTINS:
        return name, BUILTINS[name]()
    from scores.arrange import is_score, score_midi

    if is_score(name):
        return name, score_midi(name)
    path = Path(name)
    if path.is_dir():
        raise SourceError(f"{name}: is a directory, not a MIDI file")
    if not path.is_file():
        names = ", ".join(builtin_names())
        raise SourceError(f"no such file, built-in piece or score: {name!r} (built-in: {names})")
    # imported here so that naming a built-in piece never needs the file reader
    from synth.midifile import read_midi

    return path.name, read_midi(path)
