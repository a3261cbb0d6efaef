"""The user's voice folder: where it is, names, saving without overwriting, damaged files."""

from __future__ import annotations

import numpy as np
import pytest

from synth.library import user
from synth.voice import sampled_voice
from synth.voicefile import VoiceFileError


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "voices"
    monkeypatch.setenv(user.ENV_VAR, str(path))
    return path


def _voice(name: str, level: float = 0.5):
    return sampled_voice(name, np.full(1000, level))


def test_environment_variable_moves_the_folder(folder):
    assert user.voice_dir() == folder


def test_default_folder_follows_the_platform_convention(monkeypatch):
    import platformdirs

    monkeypatch.delenv(user.ENV_VAR, raising=False)
    assert user.voice_dir() == platformdirs.user_data_path("liquidsky", appauthor=False) / "voices"


def test_missing_folder_means_no_user_voices(folder):
    assert not folder.exists()
    assert user.user_voice_names() == []
    assert user.scan_user_voices() == ({}, [])


def test_saved_voice_is_listed_and_loads_by_name(folder):
    path = user.save_user_voice(_voice("my-pad"))
    assert path == folder / "my-pad.cmv"
    assert user.user_voice_names() == ["my-pad"]
    loaded = user.load_user_voice("my-pad")
    assert loaded.name == "my-pad"
    assert int(loaded.wave[0]) == 64 and int(loaded.wave[1000]) == 0


def test_saving_over_a_voice_needs_replace_and_keeps_the_old_bytes(folder):
    path = user.save_user_voice(_voice("keep", 0.5))
    before = path.read_bytes()
    with pytest.raises(user.UserVoiceError, match="exists already"):
        user.save_user_voice(_voice("keep", 0.25))
    assert path.read_bytes() == before
    user.save_user_voice(_voice("keep", 0.25), replace=True)
    assert int(user.load_user_voice("keep").wave[0]) == 32


def test_renamed_file_goes_by_its_file_name(folder):
    user.save_user_voice(_voice("first"))
    (folder / "first.cmv").rename(folder / "second.cmv")
    assert user.load_user_voice("second").name == "second"


@pytest.mark.parametrize("name", ["", "../up", "a/b", "-dash", "x" * 65, "sp ace", "tone.cmv"])
def test_unsafe_names_are_refused(name, folder):
    with pytest.raises(user.UserVoiceError, match="cannot name a voice"):
        user.user_voice_path(name)


def test_unknown_user_voice_names_the_folder(folder):
    with pytest.raises(user.UserVoiceError, match="no user voice 'ghost'"):
        user.load_user_voice("ghost")


def test_damaged_file_is_reported_and_the_others_still_load(folder):
    user.save_user_voice(_voice("good"))
    (folder / "bad.cmv").write_bytes(b"LQSKVOIC" + b"\x00" * 40)
    (folder / "notes.txt").write_text("not a voice")
    voices, errors = user.scan_user_voices()
    assert list(voices) == ["good"]
    assert len(errors) == 1 and isinstance(errors[0], VoiceFileError)
    assert str(errors[0]).startswith(str(folder / "bad.cmv"))
