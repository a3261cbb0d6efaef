"""What a piece named on the command line resolves to: a built-in piece, one of the scores, a MIDI file or a
Page R song (a .toml file), and the voices a piece names for its channels."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import mido

from scores import score_names
from scores.arrange import arrange_midi, is_score, score_midi
from scores.styles import get_style
from synth.demo import demo_midi
from synth.catalog import find_voice, read_program_map, voice_set
from synth.hardware import get_profile
from synth.midifile import read_midi
from synth.pager import load_song, song_channel_voices, song_to_midi
from synth.pager.fileformat import field_line
from synth.pager.song import TRACK_NAMES

SONG_SUFFIX = ".toml"  # a Page R song file (synth.pager)

# Built-in pieces by the name a user types. A name here wins over a file of the same name in the
# current directory; "./demo" reaches the file.
BUILTINS: dict[str, Callable[[], mido.MidiFile]] = {
    "demo": demo_midi,
}


class SourceError(ValueError):
    """A name that is neither a built-in piece, nor a score, nor an existing file."""


def builtin_names() -> list[str]:
    """The names of the built-in pieces and of the scores, in that order."""
    return sorted(BUILTINS) + score_names()


def open_source(name_or_path: str | os.PathLike, style: str | None = None, *, seed: int = 0,
                tempo_scale: float = 1.0, voices: int | None = None) -> tuple[str, mido.MidiFile]:
    """Resolve a built-in name, a score's name or a path to (display name, MIDI file).

    A path ending in .toml is a Page R song, played out by synth.pager's sequencer; its problems
    are synth.pager.SongFileError (a ValueError) naming the file, line and field.

    With a style other than plain (or a tempo scale other than 1) the piece is arranged first
    (scores.arrange, for a CMI of `voices` cards: 8 by default) and the display name says so:
    "sonnerie (ominous)". The display name is otherwise
    the name, or the file's name without its directory. Reading errors of an existing file are raised by
    synth.midifile as MidiFileError; an unknown style as scores.styles.StyleError (ValueErrors, like
    SourceError).
    """
    name = os.fspath(name_or_path)
    arranging = (style not in (None, "plain")) or tempo_scale != 1.0
    if arranging:
        get_style(style or "plain")  # an unknown style is named before any file is read
    display, midi = _open_plain(name)
    if not arranging:
        return display, midi

    label = style or "plain"
    if tempo_scale != 1.0:
        label += f", tempo x{tempo_scale:g}"
    return f"{display} ({label})", arrange_midi(midi, style or "plain", seed=seed, tempo_scale=tempo_scale,
                                                voices=voices)


def cards_of(model: str, n_voices: int | None = None) -> int:
    """The channel cards a render on `model` with `n_voices` (None: the model's own) has: what a style fits
    its arrangement to (open_source's `voices`)."""
    return n_voices or get_profile(model).n_voices


def _open_plain(name: str) -> tuple[str, mido.MidiFile]:
    if name in BUILTINS:
        return name, BUILTINS[name]()

    if is_score(name):
        return name, score_midi(name)
    path = Path(name)
    if path.is_dir():
        raise SourceError(f"{name}: is a directory, not a MIDI file")
    if not path.is_file():
        names = ", ".join(builtin_names())
        raise SourceError(f"no such file, built-in piece or score: {name!r} (built-in: {names})")
    if path.suffix.lower() == SONG_SUFFIX:
        return path.name, song_to_midi(load_song(path))
    # imported here so that naming a built-in piece never needs the file reader

    return path.name, read_midi(path)


def is_song_file(name_or_path: str | os.PathLike) -> bool:
    """Whether a piece is a Page R song file (a .toml path that is not a built-in name)."""
    name = os.fspath(name_or_path)
    return name not in BUILTINS and Path(name).suffix.lower() == SONG_SUFFIX


def source_channel_voices(name_or_path: str | os.PathLike) -> dict[int, str]:
    """The voices a piece names for its channels, {0-based channel: voice or instrument name}: a Page R
    song's registers; nothing for MIDI files, built-in pieces and scores."""
    if not is_song_file(name_or_path):
        return {}

    return song_channel_voices(load_song(name_or_path))


def piece_voice_set(name_or_path: str | os.PathLike | None, *, program_map_path: str | os.PathLike | None = None,
                    voice: str | None = None, channel_voices: dict[int, str] | None = None):
    """The voice set a piece plays with: the voices it names for its channels (a song's registers),
    under the user's choices, which win: a program map's [channels], then `voice` (every melodic
    channel), then `channel_voices` ({0-based channel: name}). The command line, batch jobs and
    synth.render all choose voices here. A register naming an unknown voice is refused in one line
    naming the song file, the line and the register.
    """
    own = source_channel_voices(name_or_path) if name_or_path is not None else {}
    if own:
        _check_song_voices(os.fspath(name_or_path), own, find_voice)
    if voice is not None:
        own = {}  # one voice for every melodic channel
    if own and program_map_path is not None:
        mapped = read_program_map(program_map_path).channels
        own = {ch: name for ch, name in own.items() if ch not in mapped}
    merged = {**own, **(channel_voices or {})}
    return voice_set(program_map_path=program_map_path, voice=voice, channel_voices=merged)


def _check_song_voices(path: str, voices: dict[int, str], find_voice) -> None:
    song = load_song(path)
    text = Path(path).read_text(encoding="utf-8")
    for letter, register in zip(TRACK_NAMES, song.registers, strict=True):
        if register.voice is not None and voices.get(register.channel) == register.voice:
            where = ("registers", letter, "voice")
            line = field_line(text, where)
            find_voice(register.voice, where=f"{path}{'' if line is None else f':{line}'}: {'.'.join(where)}: ")
