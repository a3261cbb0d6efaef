import numpy as np

from sf2_tools import write_tiny_sf2

from synth.library.page8 import import_soundfont


def _peak_hz(voice, n_used):
    x = voice.wave[:n_used].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    return np.argmax(spectrum) * voice.recording_rate_hz / (8 * len(x))


def test_soundfont_sample_is_resampled_with_its_correction_and_loops_on_segments(tmp_path):
    path = tmp_path / "tiny.sf2"
    write_tiny_sf2(path, correction_cents=50)
    voice = import_soundfont(path, "tiny", program=0, key=69)
    assert voice.recording_rate_hz == 30200 and voice.root_key == 69 and voice.mode == 4
    n_used = 15100  # 0.5 s at 30.2 kHz
    cents = 1200 * np.log2(_peak_hz(voice, n_used) / 440.0)
    assert abs(cents - 50) < 3
    assert voice.loop_start_segment is not None
    assert 0 < voice.loop_start_segment <= voice.loop_end_segment < n_used // 128
    assert int(np.max(np.abs(voice.wave))) <= 127
