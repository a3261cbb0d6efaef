"""The user's own voices: .cmv files in a folder of the user's data directory, by name."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from synth.voice import Voice
from synth.voicefile import SUFFIX, VoiceFileError, load_voice, save_voice

# Set to a folder to keep voices somewhere else (the tests point it at a temporary folder).
ENV_VAR = "LIQUIDSKY_VOICE_DIR"

# A voice name is also its file's name, so it must be safe as one on every platform: letters,
# digits, '-', '_', '.' and '+', starting with a letter or digit, at most 64 characters (a choice).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


class UserVoiceError(ValueError):
    """A user voice name that cannot be used, or one that is missing or taken."""


def voice_dir() -> Path:
    """Where user voices live: $LIQUIDSKY_VOICE_DIR, else the platform's data directory + /voices.

    Linux ~/.local/share/liquidsky/voices, macOS ~/Library/Application Support/liquidsky/voices,
    Windows %LOCALAPPDATA%\\liquidsky\\voices (platformdirs' conventions).
    """
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()

    return Path(platformdirs.user_data_dir("liquidsky", appauthor=False)) / "voices"


def check_name(name: str) -> str:
    """The name, if it can name a user voice; else UserVoiceError saying why."""
    if not _NAME.fullmatch(name) or name.endswith(SUFFIX):
        raise UserVoiceError(
            f"{name!r} cannot name a voice: use letters, digits, '-', '_', '.' or '+' (at most 64, "
            "starting with a letter or digit)"
        )
    return name


def user_voice_path(name: str) -> Path:
    return voice_dir() / f"{check_name(name)}{SUFFIX}"


def user_voice_names() -> list[str]:
    """Names of the voice files in the user's folder, sorted; none when the folder does not exist."""
    folder = voice_dir()
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        p.stem for p in entries
        if p.suffix == SUFFIX and _NAME.fullmatch(p.stem) and p.is_file()
    )


def load_user_voice(name: str) -> Voice:
    """The user voice `name`; its file's name is its name, whatever the file's header says."""
    path = user_voice_path(name)
    if not path.is_file():
        raise UserVoiceError(f"no user voice {name!r} in {voice_dir()}")
    voice = load_voice(path)
    return voice if voice.name == name else voice.with_params(name=name)


def scan_user_voices() -> tuple[dict[str, Voice], list[VoiceFileError]]:
    """Every user voice that loads, by name, and an error for each file that does not."""
    voices: dict[str, Voice] = {}
    errors: list[VoiceFileError] = []
    for name in user_voice_names():
        try:
            voices[name] = load_user_voice(name)
        except VoiceFileError as e:
            errors.append(e)
    return voices, errors


def save_user_voice(voice: Voice, replace: bool = False) -> Path:
    """Save a voice under its name in the user's folder (made if needed), atomically.

    An existing voice of that name is kept unless `replace`.
    """
    path = user_voice_path(voice.name)
    if path.exists() and not replace:
        raise UserVoiceError(f"{path}: a user voice {voice.name!r} exists already (--force replaces it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserVoiceError(f"{path.parent}: cannot make the voice folder ({e.strerror})") from None
    return save_voice(voice, path)

