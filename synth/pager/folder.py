"""The user's Page R songs: NAME.toml files in a folder of the user's data directory, by name."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from synth.library.user import check_name

ENV_VAR = "LIQUIDSKY_SONG_DIR"  # set to a folder to keep songs somewhere else (the tests do)
SUFFIX = ".toml"


def song_dir() -> Path:
    """$LIQUIDSKY_SONG_DIR, else the platform's data directory + /songs (beside the user's voices)."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()

    return Path(platformdirs.user_data_dir("liquidsky", appauthor=False)) / "songs"


def user_song_path(name: str) -> Path:
    """The file of the song `name` (a plain name, as a voice's: no paths)."""
    return song_dir() / f"{check_name(name)}{SUFFIX}"


def user_song_names() -> list[str]:
    try:
        entries = list(song_dir().iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(p.stem for p in entries if p.suffix == SUFFIX and p.is_file())
