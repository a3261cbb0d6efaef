from pathlib import Path

import numpy as np
import pytest

from synth.library.soundfont import SoundFontError, open_soundfont

from sf2_tools import write_tiny_sf2

FLUIDR3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def test_tiny_soundfont_gives_its_sample_root_loop_and_correction(tmp_path):
    path = tmp_path / "tiny.sf2"
    loop = write_tiny_sf2(path, correction_cents=-7, program=5)
    sf = open_soundfont(path)
    assert sf.presets() == [(0, 5, "Tiny Sine")]
    s = sf.sample_for(5, 0, key=60)
    assert (s.rate_hz, s.root_key, s.pitch_correction_cents, s.loop) == (32000, 69, -7.0, loop)
    assert len(s.samples) == 16000
    spectrum = np.abs(np.fft.rfft(s.samples * np.hanning(len(s.samples))))
    assert abs(np.argmax(spectrum) * s.rate_hz / len(s.samples) - 440.0) < 2.0


def test_truncated_or_foreign_files_are_one_line_errors(tmp_path):
    path = tmp_path / "tiny.sf2"
    write_tiny_sf2(path)
    data = path.read_bytes()
    for i, bad in enumerate([data[: len(data) // 2], b"RIFF\0\0\0\0WAVE", data[:12]]):
        p = tmp_path / f"bad{i}.sf2"
        p.write_bytes(bad)
        with pytest.raises(SoundFontError) as e:
            open_soundfont(p)
        assert str(p) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(SoundFontError, match="no preset"):
        open_soundfont(path).sample_for(9, 0, 60)


@pytest.mark.skipif(not FLUIDR3.exists(), reason="needs the Debian package fluid-soundfont-gm")
def test_fluidr3_violin_sample_has_its_root_and_loop():
    s = open_soundfont(FLUIDR3).sample_for(40, 0, key=69)
    assert s.loop is not None and 0 <= s.loop[0] < s.loop[1] <= len(s.samples)
    assert 55 <= s.root_key <= 80 and s.rate_hz in (22050, 32000, 44100, 48000)
