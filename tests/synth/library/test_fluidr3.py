"""FluidR3_GM as a sampling source: the recorded factory voices grow the same each time, `voice import`
works on it, and the reader's sample for a key sounds as FluidSynth plays the same preset."""

import shutil
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
from scipy.io import wavfile

from synth.library import build
from synth.library.recipes import FLUIDR3_PATH, voice_from_recipe
from synth.library.soundfont import open_soundfont
from synth.units import midi_to_hz, ratio_to_cents
from synth.voicefile import load_voice, voice_to_bytes

pytestmark = pytest.mark.skipif(
    not Path(FLUIDR3_PATH).is_file(), reason="needs Debian's fluid-soundfont-gm"
)
RATE_HZ = 44100
# A sustained, a decaying and a drum recording: every kind of recipe the recorded voices use.
SUBSET = ("strings", "grand-piano", "kick")


def _recipes():
    if not build.RECIPES_PATH.is_file() or build.tomllib is None:
        pytest.skip("the recipes are in the source tree only (and need Python 3.11 or tomli)")
    defaults, recipes = build.load_recipes()
    return defaults, {r["name"]: r for r in recipes}


def test_recorded_voices_grow_to_the_same_bytes_twice_and_match_the_committed_files():
    defaults, recipes = _recipes()
    for name in SUBSET:
        first = voice_to_bytes(voice_from_recipe(recipes[name], defaults))
        second = voice_to_bytes(voice_from_recipe(recipes[name], defaults))
        assert first == second, name
        assert (build.FACTORY_DIR / f"{name}.cmv").read_bytes() == first, f"{name}: committed file is stale"


def test_at_least_40_factory_voices_are_recorded_and_name_their_source():
    _, recipes = _recipes()
    recorded = [n for n, r in recipes.items() if r.get("method") == "soundfont"]
    assert len(recorded) >= 40
    for name in recorded:
        v = load_voice(build.FACTORY_DIR / f"{name}.cmv")
        assert v.source.startswith("FluidR3_GM (MIT) preset") and v.bits == 8
    notice = (build.FACTORY_DIR / "FluidR3-LICENSE").read_text(encoding="utf-8")
    assert "Frank Wen" in notice and "MIT" in notice


def test_voice_import_of_a_fluidr3_preset_from_the_command_line(tmp_path):
    env = {"LIQUIDSKY_VOICE_DIR": str(tmp_path / "voices"), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "synth", "voice", "import", FLUIDR3_PATH, "--program", "73", "--key", "72",
           "--name", "fl"]
    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    v = load_voice(tmp_path / "voices" / "fl.cmv")
    assert v.root_key == open_soundfont(FLUIDR3_PATH).sample_for(73, 0, 72).root_key
    assert v.looped and v.loop_start_segment <= v.loop_end_segment
    bad = subprocess.run(cmd[:-4] + ["--program", "127", "--bank", "77", "--name", "nope"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def _peak_and_centroid(x: np.ndarray, rate_hz: float, guess_hz: float) -> tuple[float, float]:
    w = x * np.hanning(x.size)
    spectrum = np.abs(np.fft.rfft(w, 8 * x.size))
    f = np.fft.rfftfreq(8 * x.size, 1.0 / rate_hz)
    near = (f > guess_hz / 1.3) & (f < guess_hz * 1.3)
    peak_hz = float(f[near][np.argmax(spectrum[near])])
    band = f < 0.45 * min(rate_hz, RATE_HZ)
    centroid = float(np.sum(f[band] * spectrum[band] ** 2) / np.sum(spectrum[band] ** 2))
    return peak_hz, centroid


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="needs fluidsynth")
@pytest.mark.parametrize("program, key", [(73, 72), (48, 60)])
def test_the_readers_sample_sounds_as_fluidsynth_plays_the_preset(tmp_path, program, key):
    # FluidSynth, effects off, one held note; the reader's sample for that key, played at the key's rate.
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.Message("program_change", program=program, time=0),
                            mido.Message("note_on", note=key, velocity=100, time=0),
                            mido.Message("note_off", note=key, time=960)])
    midi.tracks.append(track)
    midi.save(tmp_path / "n.mid")
    subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-F", str(tmp_path / "n.wav"), "-r",
                    str(RATE_HZ), FLUIDR3_PATH, str(tmp_path / "n.mid")], check=True, capture_output=True,
                   timeout=60)
    rate, data = wavfile.read(tmp_path / "n.wav")
    heard = data.astype(float).mean(axis=1)[int(0.3 * rate): int(0.8 * rate)]
    s = open_soundfont(FLUIDR3_PATH).sample_for(program, 0, key, 100)
    played_rate = s.rate_hz * 2 ** ((key - s.root_key) / 12 + s.pitch_correction_cents / 1200)
    x = s.samples.astype(float)
    if s.loop is not None:  # hold the note through its loop, as the player does
        x = np.concatenate([x[: s.loop[1]], np.tile(x[s.loop[0]: s.loop[1]], 40)])
    ours = x[int(0.3 * played_rate): int(0.8 * played_rate)]
    peak_fs, centroid_fs = _peak_and_centroid(heard, rate, midi_to_hz(key))
    # The sample at played_rate is the note at key: measured against its own clock, not the host's.
    peak_ours, centroid_ours = _peak_and_centroid(ours, played_rate, midi_to_hz(key))
    assert abs(ratio_to_cents(peak_ours / peak_fs)) < 5.0, (peak_ours, peak_fs)
    # FluidSynth's envelope and filter shape the note a little: the centroid within 25 %.
    assert abs(centroid_ours / centroid_fs - 1.0) < 0.25, (centroid_ours, centroid_fs)
