"""The example scripts run as a user would run them and make what they promise."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
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


def _run(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=600, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


def test_render_scores_writes_a_file_per_score_and_style_with_its_levels(tmp_path):
    result = _run(str(EXAMPLES / "render_scores.py"), str(tmp_path / "out"), "--scores", "laurel",
                  "--styles", "plain,march", "--seconds", "6")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["laurel-march.wav", "laurel-plain.wav"]
    for name in names:
        info = sf.info(tmp_path / "out" / name)
        assert 6.0 <= info.duration <= 9.0  # six seconds of music and the release of its last notes
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert set(rows) == set(names)
    for row in rows.values():
        assert -30.0 < float(row[2]) < 0.0  # peak dBFS: sounding, and not clipped


def test_custom_style_arranges_a_score_locrian_at_half_speed(tmp_path):
    import mido

    from scores.arrange import score_midi
    from scores.score import from_midi

    out, wav = tmp_path / "funeral.mid", tmp_path / "funeral.wav"
    _run(str(EXAMPLES / "custom_style.py"), "laurel", "-o", str(out), "--wav", str(wav))
    plain, funeral = from_midi(score_midi("laurel")), from_midi(mido.MidiFile(out))
    assert funeral.duration_s == pytest.approx(2 * plain.duration_s, rel=0.01)
    drums = {p.name for p in funeral.parts if p.is_drums}
    degrees = {(n.pitch - funeral.key_at(n.start).tonic_pc) % 12 for n in funeral.notes if n.part not in drums}
    assert degrees <= {0, 1, 3, 5, 6, 8, 10}  # the Locrian scale, pedal's flat second included
    assert 1 in degrees and 6 in degrees
    assert sf.info(wav).duration >= funeral.duration_s


def test_play_midi_makes_the_blocks_an_offline_render_makes(tmp_path):
    import numpy as np

    import synth

    out = tmp_path / "demo.wav"
    _run(str(EXAMPLES / "play_midi.py"), "demo", "--wav", str(out), cwd=tmp_path)
    played, _ = sf.read(out, dtype="float32")
    rendered, _ = synth.render("demo")
    latency = synth.Engine().latency_frames  # the offline render starts that many frames later
    n = min(len(played) - latency, len(rendered))
    assert n > 0.95 * len(rendered)
    assert np.abs(played[latency:latency + n] - rendered[:n]).max() <= 2 / 32768  # the WAV's 16-bit steps
