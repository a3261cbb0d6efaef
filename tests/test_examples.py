"""The example scripts run as a user would run them and make what they promise."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from synth.library.sampling import detect_pitch
from synth.voicefile import load_voice

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_harmonic_voice_plays_its_phrase_in_tune(tmp_path):
    out, saved = tmp_path / "phrase.wav", tmp_path / "glass.cmv"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "harmonic_voice.py"), "-o", str(out), "--save", str(saved)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    phrase = _module("harmonic_voice").PHRASE
    audio, rate = sf.read(out)
    assert len(audio) / rate >= sum(seconds for _, seconds in phrase)
    start_s = 0.0
    for i, (note, seconds) in enumerate(phrase):
        # The middle of each note, past its attack and before its release.
        part = audio[int((start_s + 0.03) * rate) : int((start_s + seconds - 0.06) * rate), 0]
        pitch = detect_pitch(part, rate)
        assert pitch.note == note, (i, pitch)
        if i == 0:
            assert abs(pitch.cents) < 10
        start_s += seconds
    voice = load_voice(saved)
    assert voice.mode == 1 and voice.loop_start_segment == 31


def test_example_help_is_its_docstring():
    result = subprocess.run([sys.executable, str(EXAMPLES / "harmonic_voice.py"), "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "Build a Mode 1 voice from a harmonic profile" in result.stdout
