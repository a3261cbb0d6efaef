"""What a piece named on the command line resolves to: a built-in piece or a MIDI file on disk."""

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
    """A name that is neither a built-in piece nor an existing file."""


def builtin_names() -> list[str]:
    """The names of the built-in pieces, sorted."""
    return sorted(BUILTINS)


def open_source(name_or_path: str | os.PathLike) -> tuple[str, mido.MidiFile]:
    """Resolve a built-in name or a path to (display name, MIDI file).

    The display name is the built-in name, or the file's name without its directory. Reading errors of
    an existing file are raised by synth.midifile as MidiFileError (a ValueError, like SourceError).
    """
    name = os.fspath(name_or_path)
    if name in BUILTINS:
        return name, BUILTINS[name]()
    path = Path(name)
    if path.is_dir():
        raise SourceError(f"{name}: is a directory, not a MIDI file")
    if not path.is_file():
        names = ", ".join(builtin_names())
        raise SourceError(f"no such file or built-in piece: {name!r} (built-in: {names})")
    # imported here so that naming a built-in piece never needs the file reader
    from synth.midifile import read_midi

    return path.name, read_midi(path)
