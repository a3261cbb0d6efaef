"""The factory voices: the library grown from seeds/voices.toml, loaded from the packaged voice files."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from synth.instrument import InstrumentError, load_instrument
from synth.voice import Voice
from synth.voicefile import SUFFIX, voice_from_bytes

FACTORY_PACKAGE = "synth.library.factory"
INDEX_NAME = "index.json"


@cache
def builtin_voices() -> dict[str, Voice]:
    """Every factory voice by name, in recipe order; loaded once and then shared: do not change the dict.

    The voice files are made by `python -m synth.library.build` and installed with the package.
    """
    folder = resources.files(FACTORY_PACKAGE)
    names = json.loads((folder / INDEX_NAME).read_text(encoding="utf-8"))["voices"]
    return {
        name: voice_from_bytes((folder / f"{name}{SUFFIX}").read_bytes(), name=f"factory voice {name}{SUFFIX}")
        for name in names
    }


@cache
def builtin_instruments() -> dict:
    """Every factory instrument (key splits over factory voices, `factory/NAME.toml`) by name; shared."""
    folder = resources.files(FACTORY_PACKAGE)
    voices = builtin_voices()

    def factory_voice(name: str, where: str) -> Voice:
        if name not in voices:
            raise InstrumentError(f"{where}voice: {name!r} is not a factory voice")
        return voices[name]

    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            with resources.as_file(entry) as path:
                found[entry.name[: -len(".toml")]] = load_instrument(path, factory_voice)
    return found
