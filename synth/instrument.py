"""Instruments: key splits over voices, as CMI owners sampled an instrument every few notes (Page 3).

An instrument maps ranges of MIDI keys to voices. Each note still plays on one card, as one voice,
clocked from that voice's own root: a split only chooses which recording a key plays. Its file is a
small TOML file beside the voices (`NAME.toml`):

    # a liquidsky instrument: key splits over voices
    description = "Grand piano, three samples"
    [[split]]
    voice = "grand-c2"     # a voice name (factory or the user's) or a .cmv path relative to this file
    low = "A0"             # lowest key, a MIDI number or a note name (C4 = 60)
    high = "E3"            # highest key, inclusive

Splits are listed from low to high and may not overlap; a key outside every split plays the nearest
one (below the lowest, the lowest; in a gap, the closer split, the lower on a tie).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomllib

from synth.units import note_name, parse_note
from synth.voice import Voice

SUFFIX = ".toml"
MAX_SPLITS = 128  # one a key at most
KEY_MAX = 127


class InstrumentError(ValueError):
    """An instrument that cannot be made or read: one line naming the file and the field."""


@dataclass(frozen=True)
class KeySplit:
    """Keys low_key..high_key (inclusive MIDI numbers) play `voice`."""

    low_key: int
    high_key: int
    voice: Voice

    def __post_init__(self) -> None:
        for what, key in (("low", self.low_key), ("high", self.high_key)):
            if not isinstance(key, int) or not 0 <= key <= KEY_MAX:
                raise InstrumentError(f"{what} key {key!r} is outside 0-127")
        if self.low_key > self.high_key:
            raise InstrumentError(
                f"low key {note_name(self.low_key)} is above high key {note_name(self.high_key)}")

    def describe(self) -> str:
        return f"{note_name(self.low_key)}-{note_name(self.high_key)}"


@dataclass(frozen=True)
class Instrument:
    """A named, ordered set of key splits; `voice_for_key` says which voice a key plays."""

    name: str
    splits: tuple[KeySplit, ...]
    description: str = ""

    def __post_init__(self) -> None:
        if not self.splits:
            raise InstrumentError(f"instrument {self.name!r} has no splits")
        if len(self.splits) > MAX_SPLITS:
            raise InstrumentError(f"instrument {self.name!r} has {len(self.splits)} splits, more than {MAX_SPLITS}")
        for before, after in zip(self.splits, self.splits[1:], strict=False):
            if after.low_key <= before.high_key:
                raise InstrumentError(
                    f"instrument {self.name!r}: split {after.describe()} overlaps or comes before "
                    f"{before.describe()} (list splits from low to high, without overlap)")

    def voice_for_key(self, key: int) -> Voice:
        """The voice that plays MIDI key `key`: its split's, or the nearest split's."""
        best = self.splits[0]
        best_distance = KEY_MAX + 1
        for split in self.splits:
            if split.low_key <= key <= split.high_key:
                return split.voice
            distance = split.low_key - key if key < split.low_key else key - split.high_key
            if distance < best_distance:
                best, best_distance = split, distance
        return best.voice

    @property
    def voices(self) -> tuple[Voice, ...]:
        return tuple(split.voice for split in self.splits)


Sound = Voice | Instrument


def load_instrument(path: str | os.PathLike, find_voice: Callable[[str, str], Voice]) -> Instrument:
    """Read an instrument file; `find_voice(name, where)` resolves a voice name (synth.catalog).

    A `voice` ending in .cmv is a path relative to the file. Errors name the file and the field.
    """
    path = Path(path)
    name = path.stem
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstrumentError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InstrumentError(f"{path}: cannot be read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise InstrumentError(f"{path}: not a TOML file: {e}") from None
    unknown = set(data) - {"description", "split"}
    if unknown:
        raise InstrumentError(f"{path}: unknown field {sorted(unknown)[0]!r} (known: description, split)")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InstrumentError(f"{path}: description: must be text")
    entries = data.get("split")
    if not isinstance(entries, list) or not entries:
        raise InstrumentError(f"{path}: needs at least one [[split]] table (voice, low, high)")
    splits = []
    for i, entry in enumerate(entries, 1):
        where = f"{path}: split {i}: "
        if not isinstance(entry, dict):
            raise InstrumentError(f"{where}must be a table of voice, low and high")
        extra = set(entry) - {"voice", "low", "high"}
        if extra:
            raise InstrumentError(f"{where}unknown field {sorted(extra)[0]!r} (known: voice, low, high)")
        missing = [k for k in ("voice", "low", "high") if k not in entry]
        if missing:
            raise InstrumentError(f"{where}{missing[0]} is missing")
        voice_name = entry["voice"]
        if not isinstance(voice_name, str) or not voice_name:
            raise InstrumentError(f"{where}voice: must be a voice name")
        if voice_name.endswith(".cmv") and not os.path.isabs(voice_name):
            voice_name = os.fspath(path.parent / voice_name)
        voice = find_voice(voice_name, where)
        if not isinstance(voice, Voice):
            raise InstrumentError(f"{where}voice: {entry['voice']!r} is an instrument, not a voice")
        keys = [_key(entry[k], f"{where}{k}: ") for k in ("low", "high")]
        try:
            splits.append(KeySplit(keys[0], keys[1], voice))
        except InstrumentError as e:
            raise InstrumentError(f"{where}{e}") from None
    try:
        return Instrument(name, tuple(splits), description)
    except InstrumentError as e:
        raise InstrumentError(f"{path}: {e}") from None


def _key(value, where: str) -> int:
    if isinstance(value, bool):
        raise InstrumentError(f"{where}{value!r} is not a key")
    if isinstance(value, int):
        key = value
    elif isinstance(value, str):
        try:
            key = parse_note(value)
        except ValueError:
            raise InstrumentError(f"{where}{value!r} is not a key (a MIDI number or a note name like C#4)") from None
    else:
        raise InstrumentError(f"{where}{value!r} is not a key")
    if not 0 <= key <= KEY_MAX:
        raise InstrumentError(f"{where}{value!r} is outside 0-127")
    return key
