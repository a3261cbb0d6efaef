"""Every voice by name (factory and the user's own), and voice sets that choose them by program and channel."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from synth.gm import VoiceSet, default_voice_set
from synth.instrument import SUFFIX as INSTRUMENT_SUFFIX
from synth.instrument import Instrument, InstrumentError, Sound, load_instrument
from synth.library import user
from synth.library.builtin import builtin_instruments, builtin_voices
from synth.midi import DRUM_CHANNEL, N_CHANNELS, N_PROGRAMS
from synth.voice import Voice
from synth.voicefile import SUFFIX, VoiceFileError, load_voice


class CatalogError(ValueError):
    """A voice name, a channel or a program map that cannot be resolved: one line saying which."""


def factory_voices() -> dict[str, Voice]:
    """The voices that come with liquidsky, by name (shared: do not change the dict)."""
    return builtin_voices()


def factory_instruments() -> dict[str, Instrument]:
    """The instruments (key splits over factory voices) that come with liquidsky, by name (shared)."""
    return builtin_instruments()


def user_instrument_names() -> list[str]:
    """The instruments in the user's voice folder (NAME.toml beside NAME.cmv voices)."""
    folder = user.voice_dir()
    return sorted(p.stem for p in folder.glob(f"*{INSTRUMENT_SUFFIX}")) if folder.is_dir() else []


def _load_instrument(path: str | os.PathLike) -> Instrument:
    try:
        return load_instrument(path, lambda name, where: _find_voice_only(name, where))
    except InstrumentError as e:
        raise CatalogError(str(e)) from None


def voice_names() -> list[str]:
    """Every voice and instrument name a command accepts: the factory's voices and instruments, then
    the user's (a user voice or instrument named like a factory one is hidden by it)."""
    factory = [*factory_voices(), *factory_instruments()]
    known = set(factory)
    mine = [n for n in (*user.user_voice_names(), *user_instrument_names()) if n not in known]
    return [*factory, *dict.fromkeys(mine)]


def _unknown(name: str, where: str) -> CatalogError:
    near = difflib.get_close_matches(name, voice_names(), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(near)}?" if near else "'liquidsky voices' lists them"
    return CatalogError(f"{where}unknown voice {name!r}: {hint}")


def find_voice(name: str, where: str = "") -> Sound:
    """The voice or instrument called `name`: a factory voice or instrument, else the user's, else a
    .cmv voice or .toml instrument file at that path.

    `where` starts the error message (say "map.toml: "), so the user knows which input named it.
    """
    factory = factory_instruments()
    if name in factory and name not in factory_voices():
        return factory[name]
    try:
        return _find_voice_only(name, where)
    except CatalogError:
        pass
    if name in user_instrument_names():
        return _load_instrument(user.voice_dir() / f"{name}{INSTRUMENT_SUFFIX}")
    if name.endswith(INSTRUMENT_SUFFIX) and os.path.isfile(name):
        return _load_instrument(name)
    raise _unknown(name, where)


def _find_voice_only(name: str, where: str = "") -> Voice:
    """The voice (not an instrument) called `name`: factory, the user's, or a .cmv file."""
    factory = factory_voices()
    if name in factory:
        return factory[name]
    if name in user.user_voice_names():
        return user.load_user_voice(name)
    if name.endswith(SUFFIX) and os.path.isfile(name):
        voice = load_voice(name)
        return voice.with_params(name=name)
    raise _unknown(name, where)


def find_single_voice(name: str, what: str = "") -> Voice:
    """A voice by name for what only a voice can do (edit it, export it): an instrument is refused."""
    found = find_voice(name)
    if isinstance(found, Instrument):
        splits = ", ".join(f"{s.describe()} {s.voice.name}" for s in found.splits)
        raise CatalogError(f"{name!r} is an instrument of {len(found.splits)} splits ({splits}); "
                           f"{what or 'this'} takes one of its voices")
    return found


def all_voices() -> tuple[dict[str, Voice], list[VoiceFileError]]:
    """Every factory and user voice by name, and an error for each user file that does not load."""
    voices = dict(factory_voices())
    mine, errors = user.scan_user_voices()
    for name, voice in mine.items():
        voices.setdefault(name, voice)
    return voices, errors


def all_instruments(errors: list | None = None) -> dict[str, Instrument]:
    """Every factory and user instrument by name; a user file that does not load is added to `errors`."""
    found = dict(factory_instruments())
    for name in user_instrument_names():
        if name in found:
            continue
        try:
            found[name] = _load_instrument(user.voice_dir() / f"{name}{INSTRUMENT_SUFFIX}")
        except CatalogError as e:
            if errors is None:
                raise
            errors.append(e)
    return found


# --- choosing voices per channel ------------------------------------------------------------------


class ChannelVoiceSet:
    """A General MIDI voice set whose melodic channels may each be given a voice of their own.

    The engine asks `melodic(program, channel)`; a channel listed in `channel_voices` (0-based)
    plays its voice whatever the program, others play the program's voice. Drums are the base
    set's.
    """

    def __init__(self, base: VoiceSet, channel_voices: Mapping[int, Voice] | None = None) -> None:
        self.base = base
        self.channel_voices = dict(channel_voices or {})
        for channel in self.channel_voices:
            if not 0 <= channel < N_CHANNELS or channel == DRUM_CHANNEL:
                raise CatalogError(f"channel {channel + 1} cannot be given a melodic voice")

    @property
    def program_map(self) -> Mapping[int, str]:
        return self.base.program_map

    @property
    def drum_map(self) -> Mapping[int, tuple[str, int]]:
        return self.base.drum_map

    def names(self) -> list[str]:
        return self.base.names()

    def voice(self, name: str) -> Voice:
        return self.base.voice(name)

    def melodic(self, program: int, channel: int | None = None) -> Sound:
        """The voice or instrument for a program (0-127) on a melodic channel (0-based; None: by
        program alone); the engine asks an instrument which of its voices plays the key."""
        found = self.channel_voices.get(channel) if channel is not None else None
        return found if found is not None else self.base.melodic(program)

    def drum(self, key: int) -> tuple[Voice, int] | None:
        return self.base.drum(key)


# --- program maps -----------------------------------------------------------------------------------


@dataclass
class ProgramMap:
    """A program map file's choices: programs and channels 0-based, drum keys as MIDI notes.

    A drum entry's note is None when the file names only a voice: the voice then plays at its
    root key, its recorded pitch.
    """

    path: str
    programs: dict[int, str] = field(default_factory=dict)
    drums: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)


def _load_toml(path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10 has no tomllib; tomli is the same parser
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise CatalogError(f"{path}: reading TOML on Python 3.10 needs tomli (pip install tomli)") from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise CatalogError(f"{path}: {(e.strerror or str(e)).lower()}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CatalogError(f"{path}: not a valid TOML file ({str(e).splitlines()[0]})") from None


def _number(text: str, low: int, high: int, what: str, path: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CatalogError(f"{path}: {what} {text!r} is not a number ({low}-{high})") from None
    if not low <= value <= high:
        raise CatalogError(f"{path}: {what} {value} is outside {low}-{high}")
    return value


def _voice_name(value, what: str, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise CatalogError(f"{path}: {what} must name a voice, not {value!r}")
    return value


def read_program_map(path: str | os.PathLike) -> ProgramMap:
    """Read a program map file (TOML); every problem is one CatalogError naming the file.

        [programs]          # General MIDI programs as musicians count them, 1-128
        1 = "piano"
        41 = "my-violin"
        [drums]             # channel 10 keys, MIDI note numbers (35 = Acoustic Bass Drum)
        36 = "kick"                       # played at the voice's own pitch
        45 = { voice = "tom", note = 43 } # played at note 43
        [channels]          # a voice for every note of a channel, 1-16 (not 10)
        3 = "bell"

    Voice names are checked here, with near names suggested for a misspelt one.
    """
    path = os.fspath(path)
    data = _load_toml(path)
    result = ProgramMap(path)
    unknown = set(data) - {"programs", "drums", "channels"}
    if unknown:
        raise CatalogError(f"{path}: unknown section [{sorted(unknown)[0]}] (use [programs], [drums], [channels])")
    for section in ("programs", "drums", "channels"):
        if not isinstance(data.get(section, {}), dict):
            raise CatalogError(f"{path}: [{section}] must be a table of numbers = voice names")
    for key, value in data.get("programs", {}).items():
        program = _number(key, 1, N_PROGRAMS, "program", path)
        result.programs[program - 1] = _voice_name(value, f"program {program}", path)
    for key, value in data.get("drums", {}).items():
        note_key = _number(key, 0, 127, "drum key", path)
        what = f"drum key {note_key}"
        if isinstance(value, dict):
            extra = set(value) - {"voice", "note"}
            if extra or "voice" not in value:
                raise CatalogError(f"{path}: {what} takes {{ voice = NAME, note = 0-127 }}")
            note = value.get("note")
            if note is not None and (not isinstance(note, int) or not 0 <= note <= 127):
                raise CatalogError(f"{path}: {what}: note must be 0-127, not {note!r}")
            result.drums[note_key] = (_voice_name(value["voice"], what, path), note)
        else:
            result.drums[note_key] = (_voice_name(value, what, path), None)
    for key, value in data.get("channels", {}).items():
        channel = _number(key, 1, N_CHANNELS, "channel", path)
        if channel - 1 == DRUM_CHANNEL:
            raise CatalogError(f"{path}: channel 10 plays drums; map its keys in [drums]")
        result.channels[channel - 1] = _voice_name(value, f"channel {channel}", path)
    for name in (*result.programs.values(), *(n for n, _ in result.drums.values()), *result.channels.values()):
        find_voice(name, where=f"{path}: ")
    return result


def parse_channel_voice(text: str) -> tuple[int | None, str]:
    """'NAME' -> (None, NAME); 'CH=NAME' -> (channel 0-based, NAME), CH counted 1-16."""
    if "=" not in text:
        return None, text.strip()
    ch_text, name = (part.strip() for part in text.split("=", 1))
    try:
        channel = int(ch_text)
    except ValueError:
        raise CatalogError(f"--voice {text}: channel {ch_text!r} is not a number 1-16") from None
    if not 1 <= channel <= N_CHANNELS:
        raise CatalogError(f"--voice {text}: channel {channel} is outside 1-16")
    if channel - 1 == DRUM_CHANNEL:
        raise CatalogError(f"--voice {text}: channel 10 plays drums; map its keys with --program-map")
    if not name:
        raise CatalogError(f"--voice {text}: no voice name after '='")
    return channel - 1, name


def voice_set(
    program_map_path: str | os.PathLike | None = None,
    voice: str | None = None,
    channel_voices: Mapping[int, str] | None = None,
) -> VoiceSet | ChannelVoiceSet:
    """The voices a render or a live session plays.

    Start from the General MIDI default; a program map file replaces the programs, drum keys
    and channels it names; `voice` then plays every melodic channel; `channel_voices`
    ({channel 0-based: name}) override single channels last. With nothing given this is the
    default set itself.
    """
    if program_map_path is None and voice is None and not channel_voices:
        return default_voice_set()
    base = default_voice_set()
    voices: dict[str, Voice] = {name: base.voice(name) for name in base.names()}
    programs = dict(base.program_map)
    drums = dict(base.drum_map)
    chosen: dict[int, Sound] = {}

    def get(name: str, where: str) -> Sound:
        found = voices.get(name) or find_voice(name, where)
        voices[found.name] = found
        return found

    if program_map_path is not None:
        pm = read_program_map(program_map_path)
        where = f"{pm.path}: "
        for program, name in pm.programs.items():
            programs[program] = get(name, where).name
        for key, (name, note) in pm.drums.items():
            found = get(name, where)
            if isinstance(found, Instrument):
                raise CatalogError(f"{where}drum key {key}: {name!r} is an instrument; a drum key plays one voice")
            drums[key] = (found.name, found.root_key if note is None else note)
        for channel, name in pm.channels.items():
            chosen[channel] = get(name, where)
    if voice is not None:
        every = get(voice, f"--voice {voice}: ")
        chosen.update({ch: every for ch in range(N_CHANNELS) if ch != DRUM_CHANNEL})
    for channel, name in (channel_voices or {}).items():
        if not 0 <= channel < N_CHANNELS or channel == DRUM_CHANNEL:
            raise CatalogError(f"--voice {channel + 1}={name}: channel {channel + 1} cannot take a melodic voice")
        chosen[channel] = get(name, f"--voice {channel + 1}={name}: ")
    base_set = VoiceSet(voices, programs, drums)
    return ChannelVoiceSet(base_set, chosen) if chosen else base_set

